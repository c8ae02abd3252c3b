/**
 * `votestream worker` child processes for benchmarks: started as an operator would (the built CLI,
 * one process per group member), their JSON log lines watched, and always stopped: by SIGTERM, then
 * SIGKILL after a grace period, and by SIGKILL when the benchmark process itself exits or is
 * interrupted, so no worker outlives a benchmark.
 */
import { eachLine, killWithParent } from './child-guard.js';
import { spawn } from 'node:child_process';
import type { ProcessingGuarantee } from '../runtime/streams-config.js';
import { ProcessStartError } from '../infra/errors.js';
import { BenchmarkError } from './errors.js';

export type LogLine = Record<string, unknown>;

export interface BenchWorkerOptions {
  /** The CLI entry point (dist/cli/main.js); default: the one running now. */
  readonly cliPath?: string;
  readonly brokers: string;
  readonly prefix: string;
  readonly stateDir: string;
  readonly instanceId: string;
  readonly guarantee: ProcessingGuarantee;
  /** Node flags for the worker, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  readonly execArgv?: readonly string[];
  readonly extraArgs?: readonly string[];
  /** Called for every JSON log line (only the last 30 are kept, for error messages). */
  readonly onLog?: (line: LogLine) => void;
}

export interface BenchWorker {
  readonly pid: number;
  /** What it is, for messages: `worker <instance id>`, `gateway`. */
  readonly instanceId: string;
  readonly startedAt: number;
  readonly exited: Promise<number | null>;
  /** The last log lines, for error messages. */
  tail(): LogLine[];
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function startBenchWorker(o: BenchWorkerOptions): BenchWorker {
  return startBenchProcess({
    name: `worker ${o.instanceId}`,
    cliPath: o.cliPath,
    execArgv: o.execArgv,
    args: [
      'worker',
      '--roles',
      'dedup',
      '--processes',
      '1',
      '--state-dir',
      o.stateDir,
      '--processing-guarantee',
      o.guarantee,
      '--instance-id',
      o.instanceId,
      '--metrics-port',
      '0',
      ...(o.extraArgs ?? []),
    ],
    env: { KAFKA_BROKERS: o.brokers, VOTESTREAM_TOPIC_PREFIX: o.prefix, LOG_LEVEL: 'info' },
    onLog: o.onLog,
  });
}

export interface BenchProcessOptions {
  /** For error messages: `worker w0`, `gateway`. */
  readonly name: string;
  /** The CLI entry point (dist/cli/main.js); default: the one running now. */
  readonly cliPath?: string;
  readonly execArgv?: readonly string[];
  /** The CLI's arguments (the command first). */
  readonly args: readonly string[];
  /** Added to this process's environment (secrets go here, never in args). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called for every JSON log line on stderr (only the last 30 are kept, for error messages). */
  readonly onLog?: (line: LogLine) => void;
  /** Called for every line on stdout (e.g. "gateway listening on ..."). */
  readonly onStdout?: (line: string) => void;
}

/** One `votestream <command>` child process, its logs watched, killed if this process goes away. */
export function startBenchProcess(o: BenchProcessOptions): BenchWorker {
  const cli = o.cliPath ?? process.argv[1];
  const child = spawn(process.execPath, [...(o.execArgv ?? []), cli, ...o.args], {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', o.onStdout === undefined ? 'ignore' : 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new ProcessStartError(`could not start ${o.name}`);
  killWithParent(child);
  const startedAt = Date.now();
  const tail: LogLine[] = [];
  eachLine(child.stderr!, (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, unparsed: true };
    }
    tail.push(line);
    if (tail.length > 30) tail.shift();
    o.onLog?.(line);
  });
  if (o.onStdout !== undefined) eachLine(child.stdout!, o.onStdout);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    pid: child.pid,
    instanceId: o.name,
    startedAt,
    exited,
    tail: () => [...tail],
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Stops all, in parallel; never throws. */
export async function stopBenchWorkers(workers: readonly BenchWorker[], graceMs?: number): Promise<void> {
  await Promise.all(workers.map((w) => w.stop(graceMs).catch(() => undefined)));
}

/** Rejects as soon as one worker exits while it should be running (with its last log lines). */
export function failOnExit(workers: readonly BenchWorker[]): { promise: Promise<never>; cancel(): void } {
  let cancelled = false;
  const promise = new Promise<never>((_, reject) => {
    for (const w of workers) {
      void w.exited.then((code) => {
        if (cancelled) return;
        reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `${w.instanceId} (pid ${w.pid}) exited with code ${code} during the run; last log lines:\n${w.tail().map((l) => JSON.stringify(l)).join('\n')}`));
      });
    }
  });
  promise.catch(() => undefined);
  return {
    promise,
    cancel: () => {
      cancelled = true;
    },
  };
}
