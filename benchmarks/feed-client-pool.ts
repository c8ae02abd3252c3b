/**
 * The client processes of one transport (benchmarks/feed-clients.ts, forked with an IPC channel):
 * each opens its share of the streams; the pool relays publish times to them, sums their
 * progress, and collects their final accounts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BenchmarkError } from './errors.js';
import type { ClientProgress, ClientResult, FeedTransport, FromClients, ToClients } from './feed-messages.js';

export interface ClientPoolOptions {
  readonly transport: FeedTransport;
  /** The stream's URL (ws://… for WebSocket, http://… for SSE). */
  readonly url: string;
  readonly clients: number;
  readonly processes: number;
  /** New streams per second over the whole pool. */
  readonly connectRatePerS: number;
}

export interface ClientPool {
  readonly pids: readonly number[];
  /** Summed over the processes (`announced`: the least of theirs), as of their last progress message. */
  progress(): ClientProgress;
  published(total: number, atMs: number): void;
  /** Closes every stream and resolves with each process's account. */
  finish(timeoutMs?: number): Promise<ClientResult[]>;
}

/** `total` split into `parts` shares that differ by one at most. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0)).filter((n) => n > 0);
}

const ZERO: ClientProgress = { connected: 0, failed: 0, closed: 0, messages: 0, caughtUp: 0, announced: 0 };

/** Counts summed; `announced` the least, so that "all caught up" means caught up with the least-informed process's news. */
export function addProgress(a: ClientProgress, b: ClientProgress): ClientProgress {
  return { connected: a.connected + b.connected, failed: a.failed + b.failed, closed: a.closed + b.closed, messages: a.messages + b.messages, caughtUp: a.caughtUp + b.caughtUp, announced: Math.min(a.announced, b.announced) };
}

export function startClientPool(o: ClientPoolOptions): ClientPool {
  const entry = fileURLToPath(new URL('./feed-clients.js', import.meta.url));
  const counts = shares(o.clients, o.processes);
  const children: ChildProcess[] = [];
  const latest: ClientProgress[] = counts.map(() => ZERO);
  const results: (ClientResult | undefined)[] = counts.map(() => undefined);
  const kill = (): void => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', kill);
  counts.forEach((count, i) => {
    const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: FromClients) => {
      if (m.type === 'progress') latest[i] = m;
      else results[i] = m;
    });
    const message: ToClients = { type: 'connect', url: o.url, transport: o.transport, count, ratePerS: o.connectRatePerS / counts.length };
    child.send(message);
    children.push(child);
  });
  const broadcast = (m: ToClients): void => {
    for (const c of children) if (c.connected) c.send(m);
  };
  return {
    pids: children.map((c) => c.pid!),
    progress: () => latest.reduce(addProgress),
    published: (total, atMs) => broadcast({ type: 'published', total, atMs }),
    async finish(timeoutMs = 30_000) {
      const exits = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
      broadcast({ type: 'finish' });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([Promise.all(exits), timeout]);
      clearTimeout(timer);
      kill();
      process.off('exit', kill);
      const missing = results.findIndex((r) => r === undefined);
      if (missing >= 0) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `${o.transport} client process ${children[missing].pid} ended without its result`);
      return results as ClientResult[];
    },
  };
}
