/**
 * A private redis-server for the tests that FLUSHALL, kill or restart Redis: the shared one serves
 * other tests (and people), so it is never touched like that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { waitUntil } from './poll.js';

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** kill -9; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (and data dir); resolves once it answers PING. */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

export interface OwnRedisOptions {
  /** With a directory: an AOF there, so a restart finds what was synced before a kill -9. */
  readonly persistDir?: string;
  /**
   * `everysec` is what the local stack runs (DESIGN section 5): a kill -9 may lose the last second
   * of acknowledged writes, which the sinks must detect and repair. `always` loses nothing.
   */
  readonly appendfsync?: 'always' | 'everysec';
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function answersPing(url: string, child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false; // not up yet, or still loading the AOF
  } finally {
    client.disconnect();
  }
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (options.persistDir !== undefined) args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec', '--dir', options.persistDir);
  else args.push('--appendonly', 'no');
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    await waitUntil(() => answersPing(url, c), `redis-server at ${url} to answer PING`, { timeoutMs: 15_000 });
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };
  await launch();
  return { port, url, kill, restart: launch, stop: kill };
}
