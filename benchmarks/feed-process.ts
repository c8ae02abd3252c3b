/**
 * The feed under test: `votestream feed` started as an operator would (the built CLI, its own
 * process, one election's prefix), and the file-descriptor limit it and the client processes need.
 */
import { spawn } from 'node:child_process';
import { openFilesLimit } from '../infra/open-files-limit.js';
import { ProcessStartError } from '../infra/errors.js';
import { ConfigError } from '../runtime/errors.js';
import { BenchmarkError } from './errors.js';

export interface FeedProcessOptions {
  readonly brokers: string;
  readonly redis: string;
  readonly prefix: string;
  /** 0: any free port. */
  readonly port: number;
  readonly intervalMs: number;
  /** Streams the feed must accept, all from 127.0.0.1 (its per-address limit is set to this too). */
  readonly maxConnections: number;
}

export interface FeedProcess {
  readonly pid: number;
  /** e.g. http://127.0.0.1:18481 */
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** Its last stderr lines, for error messages. */
  tail(): string[];
  stop(): Promise<void>;
}

/**
 * Fails before anything starts when one process would need more descriptors than `ulimit -n`
 * allows: otherwise the run would measure accept() failing with EMFILE, not the feed. Node cannot
 * raise its own limit; the shell that starts the bench can, up to the hard limit.
 */
export function checkOpenFiles(needs: readonly { readonly what: string; readonly descriptors: number; readonly otherwise: string }[]): void {
  const limit = openFilesLimit();
  if (limit === undefined) return;
  for (const { what, descriptors, otherwise } of needs) {
    if (descriptors <= limit.soft) continue;
    const how = descriptors <= limit.hard ? `raise it first (ulimit -n ${limit.hard})` : `the hard limit is ${limit.hard.toLocaleString('en-US')}: ${otherwise}`;
    throw new ConfigError(`${what} needs ~${descriptors.toLocaleString('en-US')} open files but ulimit -n is ${limit.soft.toLocaleString('en-US')}; ${how}`);
  }
}

export function startFeedProcess(o: FeedProcessOptions): Promise<FeedProcess> {
  const child = spawn(
    process.execPath,
    [
      process.argv[1],
      'feed',
      '--host',
      '127.0.0.1',
      '--port',
      String(o.port),
      '--interval',
      String(o.intervalMs),
      '--max-connections',
      String(o.maxConnections),
      '--max-connections-per-ip',
      String(o.maxConnections),
    ],
    { env: { ...process.env, KAFKA_BROKERS: o.brokers, REDIS_URL: o.redis, VOTESTREAM_TOPIC_PREFIX: o.prefix, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new ProcessStartError('could not start the feed');
  const pid = child.pid;
  const lines: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter((l) => l.length > 0));
    lines.splice(0, Math.max(0, lines.length - 20));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never outlive the bench, however it ends.
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /feed listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m !== null) resolve({ pid, url: `http://127.0.0.1:${m[1]}`, exited, tail: () => [...lines], stop });
    });
    void exited.then((code) => reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `the feed exited (${code}) before it listened:\n${lines.join('\n')}`)));
  });
}
