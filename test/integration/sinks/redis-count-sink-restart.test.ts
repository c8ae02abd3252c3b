import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCountSink } from '../../../sinks/redis-count-sink.js';
import { countsKey, offsetsKey, regionsKey } from '../../../voting/redis-keys.js';
import { countModel, cut, interleave, voteStream } from './vote-stream.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A private redis-server (never the shared one): AOF with fsync on every write, so a kill -9 loses
 * nothing that was acknowledged, and the restart finds the same data in the same directory.
 */
function startRedis(port: number, dir: string): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], {
    stdio: 'ignore',
  });
}

async function untilPing(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.ping();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
}

describe('RedisCountSink across a Redis crash (kill -9) and restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'votestream-redis-'));
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writing through the outage, recovers by itself, and counts every vote exactly once', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    server = startRedis(port, dir);
    await untilPing(url);

    const elections = ['r1', 'r2'];
    const stream = voteStream({ elections, partitions: 12, perPartition: 400, seed: 7 });
    const batches = cut(interleave(stream), [20]);
    const registry = new Registry();
    const sink = new RedisCountSink({ redis: url, registry, backoff: { baseMs: 20, maxMs: 200 } });
    await sink.open({ taskId: 'count-restart', partition: 0 });

    let written = 0;
    const writing = (async () => {
      for (const batch of batches) {
        await sink.write(batch);
        written++;
      }
    })();

    while (written < 60) await new Promise((r) => setTimeout(r, 1));
    const killed = server;
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    const writtenAtKill = written;
    await new Promise((r) => setTimeout(r, 700));
    // Nothing progressed while Redis was down: the write in flight kept retrying.
    expect(written).toBeLessThanOrEqual(writtenAtKill + 1);
    server = startRedis(port, dir);
    await writing;
    expect(written).toBe(batches.length);

    const check = new Redis(url);
    const model = countModel(stream.flat());
    for (const e of elections) {
      expect(await check.hgetall(countsKey(e))).toEqual(model.get(e)?.counts);
      expect(await check.hgetall(regionsKey(e))).toEqual(model.get(e)?.regions);
      expect(await check.hgetall(offsetsKey(e))).toEqual(model.get(e)?.offsets);
    }
    const retries = (await registry.getSingleMetric('votestream_sink_retries_total')?.get())?.values[0]?.value ?? 0;
    expect(retries).toBeGreaterThan(0);
    check.disconnect();
    await sink.close();
  });
});
