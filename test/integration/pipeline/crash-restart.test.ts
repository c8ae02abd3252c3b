import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { services } from '../../support/services.js';
import {
  chainTotal,
  checkEverything,
  deleteElectionKeys,
  expectedFor,
  killWorker,
  makeVotes,
  mergeVoteSets,
  produceVotes,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
  type VoteSet,
} from './pipeline-harness.js';
import { prng } from '../../../voting/vote-generator.js';

/** Seeded (mulberry32), so a failing run can be repeated with VOTESTREAM_TEST_SEED. */
const random = prng;

describe('kill -9 of the worker during sink writes', () => {
  let p: Pipeline;
  let redis: Redis;
  beforeAll(async () => {
    p = await setupPipeline('crash', 1);
    redis = new Redis(services().redis);
  });
  afterAll(async () => {
    await deleteElectionKeys(redis, p);
    await redis.quit();
    await p.cleanup();
  });

  it('stays exact after several crashes at random points: nothing counted twice, no chain gap or fork', async () => {
    const seed = Number(process.env.VOTESTREAM_TEST_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const electionId = p.elections[0].electionId;
    const total = async () => Number((await redis.hget(countsKey(electionId), TOTAL_FIELD)) ?? 0);
    const kills = 3;
    const waves: VoteSet[] = [];
    const points: string[] = [];
    let behind = 0;
    for (let k = 0; k < kills; k++) {
      // A new wave before each (re)start, so every life of the worker has sink writes to do.
      const wave = makeVotes(p, 1200, 100 + k);
      waves.push(wave);
      await produceVotes(p, wave.votes);
      const before = await total();
      const worker = await runWorker(p, { redisUrl: services().redis });
      // Wait until this life writes (its first rebalance waits out the killed member's session),
      // then kill it 0-300 ms later: the DynamoDB path (~1-3k votes/s) is usually mid-write then.
      const deadline = Date.now() + 60_000;
      while ((await total()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await total(), `life ${k} made no progress`).toBeGreaterThan(before);
      const delay = Math.floor(rand() * 300);
      await new Promise((r) => setTimeout(r, delay));
      await killWorker(worker);
      // What this life left behind: the persist path had work pending when it died, if its
      // chains hold fewer votes than were accepted so far.
      const accepted = expectedFor(mergeVoteSets(...waves), electionId).total;
      const [counted, persisted] = [await total(), await chainTotal(p, electionId)];
      if (persisted < accepted) behind++;
      points.push(`+${delay} ms (redis ${counted}, dynamodb ${persisted} of ${accepted})`);
    }
    console.log(`crash-restart: seed ${seed}; kills at ${points.join(', ')}`);
    // At least one kill landed while the DynamoDB sink still had votes to write.
    expect(behind).toBeGreaterThan(0);
    const all = mergeVoteSets(...waves);
    const worker = await runWorker(p, { redisUrl: services().redis });
    const { total: expected } = expectedFor(all, electionId);
    await waitForTotal(redis, electionId, expected);
    await waitForChains(p, electionId, expected);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, all);
  });
});
