/**
 * Issue 8, fault 2 (Redis), end to end: Redis loses everything while a worker counts under load (a
 * FLUSHALL; a restart of a Redis that keeps nothing on disk). Before the fix the count path went on
 * from its committed offsets over missing fences and `_total` counted only the new votes. Now the
 * count sink sees its watermark gone, the task reopens and replays the partition from its beginning,
 * and the counts converge to exact by themselves, with no operator step.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { countsKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { waitUntil } from '../../support/poll.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForDedupCaughtUp,
  waitForTotal,
  type Pipeline,
} from '../../support/scenario.js';

const lostStateLogged = (l: Record<string, unknown>): boolean => JSON.stringify(l).includes('Redis lost counted state');

describe('Redis loses its state under load', () => {
  const pipelines: Pipeline[] = [];
  const servers: OwnRedis[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    for (const s of servers.splice(0)) await s.stop();
    for (const p of pipelines.splice(0)) await p.cleanup();
  });

  for (const how of ['FLUSHALL', 'restart without persistence'] as const) {
    it(`${how} while votes flow: counts converge to exact by themselves`, async () => {
      const p = await setupPipeline(how === 'FLUSHALL' ? 'lsf' : 'lsr');
      pipelines.push(p);
      // No persistence: a restart comes back empty, like the stack's Redis before it had an AOF.
      const own = await startOwnRedis();
      servers.push(own);
      const redis = new Redis(own.url, { retryStrategy: () => 100, maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      clients.push(redis);
      const e = p.elections[0].electionId;
      const total = async () => Number((await redis.hget(redisKeyPrefix(p) + countsKey(e), TOTAL_FIELD).catch(() => null)) ?? 0);
      const set = makeVotes(p, 6_000, 81);
      const expected = expectedFor(set, e).total;
      const worker = await runWorker(p, { redisUrl: own.url });
      const half = Math.floor(set.votes.length / 2);
      await produceVotes(p, set.votes.slice(0, half));
      // Under load: the count path has applied part of the votes (the second half is not even produced).
      await waitUntil(async () => (await total()) > 0, 'the count path to apply some votes', { timeoutMs: 90_000, intervalMs: 20 });
      const runId = async (): Promise<string | undefined> => /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
      const before = await runId();
      if (how === 'FLUSHALL') {
        await redis.flushall();
      } else {
        await own.kill();
        await own.restart();
        // A new server without persistence: it came back empty. (Not dbsize() === 0: the running
        // count path may already have written into the empty Redis by the time it is asked.)
        expect(await runId(), 'Redis restarted').not.toBe(before);
        expect((await redis.config('GET', 'appendonly'))[1], 'no AOF').toBe('no');
        expect((await redis.config('GET', 'save'))[1], 'no RDB snapshots').toBe('');
      }
      await produceVotes(p, set.votes.slice(half));
      // The fault hit a running count path: a sink write found the state lost.
      await worker.waitForLog(lostStateLogged, 90_000);
      await waitForDedupCaughtUp(p);
      await waitForTotal(redis, e, expected, 120_000, redisKeyPrefix(p));
      await waitForChains(p, e, expected);
      await stopWorkerCleanly(worker);
      await checkEverything(p, redis, set);
    }, 300_000);
  }
});
