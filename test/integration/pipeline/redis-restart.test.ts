import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { countsKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { waitUntil } from '../../support/poll.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  mergeVoteSets,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
} from '../../support/scenario.js';
import { metricSum, scrapeMetrics, type WorkerHandle } from '../../support/worker-process.js';

/** The count sink's retries so far: above zero only once a write met the outage. */
async function redisSinkRetries(w: WorkerHandle): Promise<number> {
  return metricSum(await scrapeMetrics(w), 'votestream_sink_retries_total', { sink: 'redis' });
}

/**
 * Each test builds its own pipeline, Redis and data directory, so either runs (and fails) alone.
 * Redis keeps an AOF fsynced on every write: these tests are about riding out an outage, not about
 * lost Redis state (the stack's `everysec` and FLUSHALL are the lost-state tests' business).
 */
describe('Redis killed and restarted mid-stream', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function fresh(label: string): Promise<{ p: Pipeline; own: OwnRedis; redis: Redis; total: (e: string) => Promise<number> }> {
    const p = await setupPipeline(label, 1);
    cleanups.push(() => p.cleanup());
    const dataDir = mkdtempSync(join(tmpdir(), 'vs-redis-aof-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const own = await startOwnRedis({ persistDir: dataDir, appendfsync: 'always' });
    cleanups.push(() => own.stop());
    // The test's own client rides out the outage too.
    const redis = new Redis(own.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    cleanups.push(async () => redis.disconnect());
    const total = async (e: string) => Number((await redis.hget(redisKeyPrefix(p) + countsKey(e), TOTAL_FIELD)) ?? 0);
    return { p, own, redis, total };
  }

  it('a count write meets the outage, the worker stays up and retries, and once Redis is back the counts are exact', async () => {
    const { p, own, redis, total } = await fresh('rrestart');
    const e = p.elections[0].electionId;
    const first = makeVotes(p, 1200, 31);
    const second = makeVotes(p, 1200, 32);
    const all = mergeVoteSets(first, second);
    await produceVotes(p, first.votes);
    const worker = await runWorker(p, { redisUrl: own.url });
    await waitUntil(async () => (await total(e)) > 0, 'the first counts in Redis');
    expect(await redisSinkRetries(worker), 'retries before any outage').toBe(0);

    await own.kill();
    // Votes keep coming while Redis is down: the count path has writes to make, and they must fail.
    await produceVotes(p, second.votes);
    await waitUntil(async () => (await redisSinkRetries(worker)) > 0, 'the Redis count sink to retry a write during the outage', { timeoutMs: 60_000 });
    expect(worker.child.exitCode, 'the worker exited during the outage').toBeNull();
    expect(worker.child.signalCode).toBeNull();

    await own.restart();
    const expected = expectedFor(all, e).total;
    await waitForTotal(redis, e, expected, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, expected);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, all);
  });

  it('SIGTERM while Redis is down: the worker stops within its grace period, and a restart counts exactly', async () => {
    const { p, own, redis } = await fresh('rsigterm');
    const e = p.elections[0].electionId;
    const votes = makeVotes(p, 600, 33);
    await own.kill();
    const worker = await runWorker(p, { redisUrl: own.url, instanceId: 'w2' });
    await produceVotes(p, votes.votes);
    // The count sink is stuck in a write, not idle: that is what the grace period is for.
    await waitUntil(async () => (await redisSinkRetries(worker)) > 0, 'the Redis count sink to retry a write during the outage', { timeoutMs: 60_000 });
    const started = Date.now();
    await stopWorkerCleanly(worker);
    // 15 s of grace for the stuck count sink, then its retries are ended; the rest shut down cleanly.
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(worker.logs.filter((l) => l.msg === 'still committing after the grace period; closing the sinks to end their retries').length).toBe(1);

    await own.restart();
    // Nothing reached Redis in the first life: every count below is this restart's.
    expect(await redis.exists(redisKeyPrefix(p) + countsKey(e))).toBe(0);
    const again = await runWorker(p, { redisUrl: own.url, instanceId: 'w3' });
    await waitForTotal(redis, e, expectedFor(votes, e).total, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, expectedFor(votes, e).total);
    await stopWorkerCleanly(again);
    await checkEverything(p, redis, votes);
  });
});
