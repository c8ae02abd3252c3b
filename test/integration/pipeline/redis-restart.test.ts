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

  it('SIGTERM while Redis is down: the worker stops within its grace period, and a restart counts exactly', async () => {
    const e = p.elections[0].electionId;
    const before = Number((await redis.hget(countsKey(e), TOTAL_FIELD)) ?? 0);
    const more = makeVotes(p, 300, 33);
    await own.kill();
    const worker = await runWorker(p, { redisUrl: own.url, instanceId: 'w2' });
    await produceVotes(p, more.votes);
    await worker.waitForLog((l) => l.msg === 'worker started', 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const started = Date.now();
    await stopWorkerCleanly(worker);
    // 15 s of grace for the stuck count sink, then its retries are ended; the rest shut down cleanly.
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(worker.logs.some((l) => l.msg === 'still committing after the grace period; closing the sinks to end their retries')).toBe(true);
    await own.restart();
    const again = await runWorker(p, { redisUrl: own.url, instanceId: 'w3' });
    const first = makeVotes(p, 1200, 31);
    const second = makeVotes(p, 1200, 32);
    const all = mergeVoteSets(first, second, more);
    await waitForTotal(redis, e, expectedFor(all, e).total);
    expect(expectedFor(all, e).total).toBeGreaterThan(before);
    await stopWorkerCleanly(again);
    await checkEverything(p, redis, all);
  });
});
