import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { votingGroupId } from '../../../voting/count-offsets-reset.js';
import { cliEnv, runCli } from '../../support/cli.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  mergeVoteSets,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  sinkGroupOffsets,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
} from '../../support/scenario.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';

describe('FLUSHALL, then `votestream rebuild redis`', () => {
  let p: Pipeline;
  let own: OwnRedis;
  let redis: Redis;
  beforeAll(async () => {
    p = await setupPipeline('rbcli', 1);
    own = await startOwnRedis();
    redis = new Redis(own.url);
  });
  afterAll(async () => {
    await redis.quit();
    await own.stop();
    await p.cleanup();
  });

  const rebuild = (electionId: string, extra: string[] = []) =>
    runCli(['rebuild', 'redis', '--election', electionId, ...extra], cliEnv({ brokers: p.brokers, redis: own.url, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix }), 60_000);
  const snapshot = (e: string) => redisSnapshot(redis, e, redisKeyPrefix(p));

  it('restores the counts exactly, refuses while the count path runs, and catches up when Redis was ahead of DynamoDB', async () => {
    const e = p.elections[0].electionId;
    const first = makeVotes(p, 1500, 21);
    await produceVotes(p, first.votes);
    let worker = await runWorker(p, { redisUrl: own.url });
    const { total } = expectedFor(first, e);
    await waitForTotal(redis, e, total, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, total);

    const refused = rebuild(e);
    expect(refused.status, refused.stderr).toBe(6);
    expect(refused.stderr).toContain(`the count path is running: consumer group ${votingGroupId(p.prefix, 'count')}`);
    expect(refused.stdout).toBe('');
    await stopWorkerCleanly(worker);

    // 1. DynamoDB has everything Redis had: the rebuild gives back the same hashes, fences included.
    const before = await snapshot(e);
    expect(await redis.flushall()).toBe('OK');
    expect(await snapshot(e)).toEqual({ counts: {}, regions: {}, offsets: {} });
    const json = rebuild(e, ['--json']);
    expect(json.status, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout) as { electionId: string; total: number; reset: { moves: boolean }[] };
    expect(printed.electionId).toBe(e);
    expect(printed.total).toBe(total);
    expect(printed.reset.filter((s) => s.moves)).toEqual([]);
    expect(await snapshot(e)).toEqual(before);

    // 2. Redis ahead of DynamoDB: only dedup and count run while more votes arrive.
    const second = makeVotes(p, 1000, 22);
    await produceVotes(p, second.votes);
    const all = mergeVoteSets(first, second);
    const { total: allTotal } = expectedFor(all, e);
    worker = await runWorker(p, { redisUrl: own.url, roles: ['dedup', 'count'] });
    await waitForTotal(redis, e, allTotal, 90_000, redisKeyPrefix(p));
    await stopWorkerCleanly(worker);
    // Where the count group is ahead of the persist group is exactly what the rebuild must rewind.
    const countAhead = await sinkGroupOffsets(p, 'count');
    const persistBehind = await sinkGroupOffsets(p, 'persist');
    const moves = [...countAhead]
      .filter(([partition, offset]) => offset !== persistBehind.get(partition))
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => `${partition}:${offset}->${persistBehind.get(partition)}`);
    // The second wave reached partitions the persist path never saw in that life: something to rewind.
    expect(moves.length).toBeGreaterThan(0);
    expect([...persistBehind.keys()].sort((a, b) => a - b)).toEqual([...countAhead.keys()].sort((a, b) => a - b));
    await redis.flushall();
    const text = rebuild(e);
    expect(text.status, text.stderr).toBe(0);
    // Redis holds what DynamoDB holds, and the count group was rewound exactly where it was ahead.
    expect(text.stdout).toContain(`election ${e}: total ${total}\n`);
    expect(text.stdout).toContain(
      `  count group ${votingGroupId(p.prefix, 'count')}: rewound ${moves.length} partition(s) to re-read what DynamoDB lacked: ${moves.join(' ')}\n`,
    );
    expect(await snapshot(e)).toEqual(before);
    expect(await sinkGroupOffsets(p, 'count')).toEqual(persistBehind);

    // The count path re-reads what DynamoDB lacked (the fences skip the rest), the persist path catches up.
    worker = await runWorker(p, { redisUrl: own.url });
    await waitForTotal(redis, e, allTotal, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, allTotal);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, all);
  });
});
