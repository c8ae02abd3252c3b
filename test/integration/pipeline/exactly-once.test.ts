import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { services } from '../../support/services.js';
import {
  checkEverything,
  deleteElectionKeys,
  expectedFor,
  makeVotes,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
} from '../../support/scenario.js';

describe('the whole pipeline: votes -> dedup -> Redis counts and DynamoDB chains', () => {
  let p: Pipeline;
  let redis: Redis;
  beforeAll(async () => {
    p = await setupPipeline('pipe', 2);
    redis = new Redis(services().redis);
  });
  afterAll(async () => {
    await deleteElectionKeys(redis, p);
    await redis.quit();
    await p.cleanup();
  });

  it('counts every distinct first vote exactly once, in Redis, in DynamoDB and in votes-accepted', async () => {
    // 3,000 votes over 2 elections and 12 partitions, 15% of them repeats of an earlier voter.
    const set = makeVotes(p, 3000, 11);
    await produceVotes(p, set.votes);
    const worker = await runWorker(p, { redisUrl: services().redis });
    for (const e of p.elections) {
      const { total } = expectedFor(set, e.electionId);
      await waitForTotal(redis, e.electionId, total, 90_000, redisKeyPrefix(p));
      await waitForChains(p, e.electionId, total);
    }
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, set);
  });
});
