import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../../support/cli.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import { expectedFor, makeVotes, produceVotes, redisKeyPrefix, runWorker, setupPipeline, stopWorkerCleanly, waitForChains, waitForTotal, type Pipeline } from '../../support/scenario.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';

describe('FLUSHALL with two elections, then `votestream rebuild redis --all`', () => {
  let p: Pipeline;
  let own: OwnRedis;
  let redis: Redis;
  beforeAll(async () => {
    p = await setupPipeline('rball', 2);
    own = await startOwnRedis();
    redis = new Redis(own.url);
  });
  afterAll(async () => {
    await redis.quit();
    await own.stop();
    await p.cleanup();
  });

  it('rebuilds every election on the elections topic exactly', async () => {
    const votes = makeVotes(p, 1200, 41);
    await produceVotes(p, votes.votes);
    const worker = await runWorker(p, { redisUrl: own.url });
    const ids = p.elections.map((e) => e.electionId).sort();
    for (const e of ids) {
      await waitForTotal(redis, e, expectedFor(votes, e).total, 90_000, redisKeyPrefix(p));
      await waitForChains(p, e, expectedFor(votes, e).total);
    }
    await stopWorkerCleanly(worker);
    const snapshot = async () => Promise.all(ids.map((e) => redisSnapshot(redis, e, redisKeyPrefix(p))));
    const before = await snapshot();
    expect(await redis.flushall()).toBe('OK');

    const r = runCli(['rebuild', 'redis', '--all', '--json'], cliEnv({ brokers: p.brokers, redis: own.url, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix }), 60_000);
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { electionId: string; total: number }[];
    expect(printed.map((x) => [x.electionId, x.total])).toEqual(ids.map((e) => [e, expectedFor(votes, e).total]));
    expect(await snapshot()).toEqual(before);

    const both = runCli(['rebuild', 'redis', '--all', '--election', ids[0]]);
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('votestream: give exactly one of --election E and --all\n');
  });
});
