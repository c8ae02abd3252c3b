/**
 * `votestream worker` child processes for benchmarks: started as an operator would (the built CLI,
 * one process per group member), their JSON log lines watched, and always stopped: by SIGTERM, then
 * SIGKILL after a grace period, and by SIGKILL when the benchmark process itself exits or is
 * interrupted, so no worker outlives a benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  readonly instanceId: string;
  readonly startedAt: number;
  readonly exited: Promise<number | null>;
  /** The last log lines, for error messages. */
  tail(): LogLine[];
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let guarded = false;

/** Kills every worker still running when this process exits or is interrupted. */
function guard(): void {
  if (guarded) return;
  guarded = true;
  const killAll = (): void => {
    for (const child of live) child.kill('SIGKILL');
    live.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function startBenchWorker(o: BenchWorkerOptions): BenchWorker {
  guard();
  const cli = o.cliPath ?? process.argv[1];
  const child = spawn(
    process.execPath,
    [
      ...(o.execArgv ?? []),
      cli,
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
    {
      env: { ...process.env, KAFKA_BROKERS: o.brokers, VOTESTREAM_TOPIC_PREFIX: o.prefix, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new ProcessStartError(`could not start worker ${o.instanceId}`);
  live.add(child);
  const startedAt = Date.now();
  const tail: LogLine[] = [];
  let buffer = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const text of lines) {
      if (text.length === 0) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, unparsed: true };
      }
      tail.push(line);
      if (tail.length > 30) tail.shift();
      o.onLog?.(line);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return {
    pid: child.pid,
    instanceId: o.instanceId,
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
        reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `worker ${w.instanceId} (pid ${w.pid}) exited with code ${code} during the run; last log lines:\n${w.tail().map((l) => JSON.stringify(l)).join('\n')}`));
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
