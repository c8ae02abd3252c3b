/**
 * The system a chaos run attacks, started as an operator would (the built CLI): worker processes
 * running every role, a gateway and a feed on fixed ports (a restarted one must come back where its
 * clients look for it). Every process can be killed, paused, resumed and restarted by name; one
 * that exits while nobody asked it to is recorded as a crash, which the verdict counts.
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BenchmarkError } from '../errors.js';
import { untilReady } from '../run/pipeline-processes.js';
import { startBenchProcess, type BenchWorker, type LogLine } from '../worker-processes.js';

export interface ChaosPipelineOptions {
  readonly brokers: string;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly prefix: string;
  readonly stateDir: string;
  readonly tokenSecret: string;
  readonly workers: number;
  readonly readyTimeoutMs: number;
  /** Every process's log lines go to `<logDir>/<name>.log` (kept after a failed run). */
  readonly logDir: string;
  readonly onLog?: (name: string, line: LogLine) => void;
}

export interface Crash {
  readonly name: string;
  readonly pid: number;
  readonly code: number | null;
  readonly at: number;
  readonly lastLines: readonly LogLine[];
}

type Kind = 'worker' | 'gateway' | 'feed';

interface Slot {
  readonly name: string;
  readonly kind: Kind;
  process: BenchWorker;
  /** Set while we are the ones stopping or killing it: its exit is then no crash. */
  expectingExit: boolean;
}

/** A port free now on 127.0.0.1 (the OS picks it; closed again at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new BenchmarkError('BENCHMARK_OUTPUT', 'no port'))));
    });
  });
}

export class ChaosPipeline {
  readonly crashes: Crash[] = [];
  readonly #o: ChaosPipelineOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #env: NodeJS.ProcessEnv;
  #nextWorker = 0;
  #gatewayPort = 0;
  #feedPort = 0;

  constructor(o: ChaosPipelineOptions) {
    this.#o = o;
    this.#env = { KAFKA_BROKERS: o.brokers, REDIS_URL: o.redis, DYNAMODB_ENDPOINT: o.dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: o.prefix, LOG_LEVEL: 'info' };
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.#gatewayPort}`;
  }

  get feedUrl(): string {
    return `http://127.0.0.1:${this.#feedPort}`;
  }

  /** Names of the workers running now, oldest first. */
  get workers(): string[] {
    return [...this.#slots.values()].filter((s) => s.kind === 'worker').map((s) => s.name);
  }

  pid(name: string): number {
    return this.#slot(name).process.pid;
  }

  async start(): Promise<void> {
    this.#gatewayPort = await freePort();
    this.#feedPort = await freePort();
    for (let i = 0; i < this.#o.workers; i++) this.#launch(this.#newWorkerName());
    this.#launch('gateway');
    this.#launch('feed');
    await this.ready();
  }

  /** Adds a worker (scale out); resolves once it runs. */
  addWorker(): string {
    const name = this.#newWorkerName();
    this.#launch(name);
    return name;
  }

  /** SIGTERM and wait for the exit (scale in: the worker leaves its group cleanly). */
  async stop(name: string): Promise<void> {
    const slot = this.#slot(name);
    slot.expectingExit = true;
    await slot.process.stop(30_000);
    this.#slots.delete(name);
  }

  /** kill -9; the slot stays, to be restarted under the same name, instance id and state dir. */
  async kill(name: string): Promise<void> {
    const slot = this.#slot(name);
    slot.expectingExit = true;
    process.kill(slot.process.pid, 'SIGKILL');
    await slot.process.exited;
  }

  pause(name: string): void {
    process.kill(this.#slot(name).process.pid, 'SIGSTOP');
  }

  resume(name: string): void {
    process.kill(this.#slot(name).process.pid, 'SIGCONT');
  }

  /** Starts a killed process again under its name, and waits until it is ready. */
  async restart(name: string): Promise<void> {
    this.#launch(name);
    await this.ready();
  }

  /** Every worker has logged its assignment, and the gateway and feed answer /readyz with 200. */
  async ready(): Promise<void> {
    await Promise.all([this.gatewayUrl, this.feedUrl].map((url) => untilReady(`${url}/readyz`, this.#o.readyTimeoutMs)));
  }

  async stopAll(): Promise<void> {
    const slots = [...this.#slots.values()];
    for (const s of slots) s.expectingExit = true;
    await Promise.all(slots.map((s) => s.process.stop(20_000).catch(() => undefined)));
    this.#slots.clear();
    rmSync(this.#o.stateDir, { recursive: true, force: true });
  }

  #newWorkerName(): string {
    return `worker-${++this.#nextWorker}`;
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', `no process named ${name} in the chaos pipeline`);
    return slot;
  }

  #launch(name: string): void {
    const kind: Kind = name.startsWith('worker-') ? 'worker' : (name as Kind);
    mkdirSync(this.#o.logDir, { recursive: true });
    const logFile = join(this.#o.logDir, `${name}.log`);
    const onLog = (line: LogLine): void => {
      appendFileSync(logFile, `${JSON.stringify(line)}\n`);
      this.#o.onLog?.(name, line);
    };
    let child: BenchWorker;
    if (kind === 'worker') {
      const stateDir = join(this.#o.stateDir, name);
      mkdirSync(stateDir, { recursive: true });
      child = startBenchProcess({
        name,
        args: ['worker', '--processes', '1', '--state-dir', stateDir, '--instance-id', `${this.#o.prefix}${name}`, '--metrics-port', '0'],
        env: this.#env,
        onLog,
      });
    } else if (kind === 'gateway') {
      child = startBenchProcess({
        name,
        // Load from one address and a few voters: limits that protect an election from abuse would
        // measure the limiter, not the faults.
        args: ['gateway', '--host', '127.0.0.1', '--port', String(this.#gatewayPort), '--ip-rate', '1e9', '--ip-burst', '1e9', '--voter-rate', '1e9', '--voter-burst', '1000000000', '--max-in-flight', '100000'],
        env: { ...this.#env, VOTESTREAM_TOKEN_SECRET: this.#o.tokenSecret },
        onLog,
      });
    } else {
      child = startBenchProcess({ name, args: ['feed', '--host', '127.0.0.1', '--port', String(this.#feedPort), '--max-connections-per-ip', '1000'], env: this.#env, onLog });
    }
    const slot: Slot = { name, kind, process: child, expectingExit: false };
    this.#slots.set(name, slot);
    void child.exited.then((code) => {
      if (slot.expectingExit) return;
      this.crashes.push({ name, pid: child.pid, code, at: Date.now(), lastLines: child.tail() });
      // A crashed process is restarted, as a supervisor would, so the run goes on and is judged.
      if (this.#slots.get(name) === slot) this.#launch(name);
    });
  }
}
