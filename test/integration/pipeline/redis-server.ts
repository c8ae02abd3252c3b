/**
 * A private redis-server for the tests that FLUSHALL or kill Redis: the shared one serves other
 * tests (and people), so it is never touched like that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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
  /** With a directory: AOF on, fsync on every write, so a kill -9 loses nothing acknowledged. */
  readonly persistDir?: string;
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

async function waitForPing(url: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not up yet (or still loading the AOF)
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms`);
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (options.persistDir !== undefined) args.push('--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.persistDir);
  else args.push('--appendonly', 'no');
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPing(url, child);
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
