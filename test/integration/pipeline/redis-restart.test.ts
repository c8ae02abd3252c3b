import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  mergeVoteSets,
  produceVotes,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
} from './pipeline-harness.js';
import { startOwnRedis, type OwnRedis } from './redis-server.js';

describe('Redis killed and restarted mid-stream', () => {
  let p: Pipeline;
  let own: OwnRedis;
  let redis: Redis;
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-redis-aof-'));
  beforeAll(async () => {
    p = await setupPipeline('rrestart', 1);
    // AOF with fsync on every write: what Redis acknowledged survives its kill -9.
    own = await startOwnRedis({ persistDir: dataDir });
    // The test's own client must ride out the outage too.
    redis = new Redis(own.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
  });
  afterAll(async () => {
    redis.disconnect();
    await own.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await p.cleanup();
  });

  it('the worker recovers by itself and the counts are exact', async () => {
    const e = p.elections[0].electionId;
    const first = makeVotes(p, 1200, 31);
    const second = makeVotes(p, 1200, 32);
    const all = mergeVoteSets(first, second);
    await produceVotes(p, first.votes);
    const worker = await runWorker(p, { redisUrl: own.url });
    const total = async () => Number((await redis.hget(countsKey(e), TOTAL_FIELD)) ?? 0);
    const deadline = Date.now() + 60_000;
    while ((await total()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await total()).toBeGreaterThan(0);

    // Down while votes keep coming: the count sink retries, the other paths go on.
    const beforeKill = await total();
    await own.kill();
    await produceVotes(p, second.votes);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(worker.child.exitCode).toBeNull();
    await own.restart();
    const expected = expectedFor(all, e).total;
    // The second wave was counted only after the outage; the AOF kept every acknowledged write
    // (the count sink, retrying all along, may already have applied more by the time we read).
    expect(beforeKill).toBeLessThanOrEqual(expectedFor(first, e).total);
    expect(await total()).toBeGreaterThanOrEqual(beforeKill);

    await waitForTotal(redis, e, expected);
    await waitForChains(p, e, expected);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, all);
  });
});
