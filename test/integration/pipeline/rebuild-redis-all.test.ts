import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsKey, offsetsKey, regionsKey } from '../../../voting/redis-keys.js';
import { expectedFor, makeVotes, produceVotes, runWorker, setupPipeline, stopWorkerCleanly, waitForChains, waitForTotal, type Pipeline } from './pipeline-harness.js';
import { startOwnRedis, type OwnRedis } from './redis-server.js';

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
      await waitForTotal(redis, e, expectedFor(votes, e).total);
      await waitForChains(p, e, expectedFor(votes, e).total);
    }
    await stopWorkerCleanly(worker);
    const snapshot = async () =>
      Promise.all(ids.map(async (e) => [await redis.hgetall(countsKey(e)), await redis.hgetall(regionsKey(e)), await redis.hgetall(offsetsKey(e))]));
    const before = await snapshot();
    expect(await redis.flushall()).toBe('OK');

    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'rebuild', 'redis', '--all', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: p.brokers, REDIS_URL: own.url, DYNAMODB_ENDPOINT: p.dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: p.prefix, LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { electionId: string; total: number }[];
    expect(printed.map((x) => [x.electionId, x.total])).toEqual(ids.map((e) => [e, expectedFor(votes, e).total]));
    expect(await snapshot()).toEqual(before);

    const both = spawnSync(process.execPath, ['dist/cli/main.js', 'rebuild', 'redis', '--all', '--election', ids[0]], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('votestream: give exactly one of --election E and --all\n');
  });
});
