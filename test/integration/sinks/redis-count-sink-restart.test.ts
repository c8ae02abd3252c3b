import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { VoteCountSink } from '../../../voting/count-sink.js';
import { countsKey, offsetsKey, regionsKey } from '../../../voting/redis-keys.js';
import { waitUntil } from '../../support/poll.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { countModel, cut, interleave, voteStream } from './vote-stream.js';

describe('RedisCountSink across a Redis crash (kill -9) and restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'votestream-redis-'));
  let server: OwnRedis | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writing through the outage, recovers by itself, and counts every vote exactly once', async () => {
    // AOF fsynced on every write: a kill -9 loses nothing acknowledged, and the restart finds it.
    server = await startOwnRedis({ persistDir: dir, appendfsync: 'always' });
    const { url } = server;

    const elections = ['r1', 'r2'];
    const stream = voteStream({ elections, partitions: 12, perPartition: 400, seed: 7 });
    const batches = cut(interleave(stream), [20]);
    const registry = new Registry();
    const sink = new VoteCountSink({ redis: url, registry, backoff: { baseMs: 20, maxMs: 200 } });
    await sink.open({ taskId: 'count-restart', partition: 0 });

    let written = 0;
    const writing = (async () => {
      for (const batch of batches) {
        await sink.write(batch);
        written++;
      }
    })();

    const retries = async () => (await registry.getSingleMetric('votestream_sink_retries_total')?.get())?.values[0]?.value ?? 0;
    await waitUntil(() => written >= 60, '60 batches written', { intervalMs: 1 });
    await server.kill();
    const writtenAtKill = written;
    await waitUntil(async () => (await retries()) > 0, 'a write to meet the outage and retry', { intervalMs: 10 });
    // Nothing progressed while Redis was down: the write in flight kept retrying.
    expect(written).toBeLessThanOrEqual(writtenAtKill + 1);
    await server.restart();
    await writing;
    expect(written).toBe(batches.length);

    const check = new Redis(url);
    const model = countModel(stream.flat());
    for (const e of elections) {
      expect(await check.hgetall(countsKey(e))).toEqual(model.get(e)?.counts);
      expect(await check.hgetall(regionsKey(e))).toEqual(model.get(e)?.regions);
      expect(await check.hgetall(offsetsKey(e))).toEqual(model.get(e)?.offsets);
    }
    expect(await retries()).toBeGreaterThan(0);
    check.disconnect();
    await sink.close();
  });
});
