import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsKey, offsetsKey, regionsKey } from '../../../voting/redis-keys.js';
import { votingGroupId } from '../../../voting/count-offsets-reset.js';
import { topicNames } from '../../../voting/topics.js';
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

  /** The built CLI, as an operator runs it. */
  function rebuild(electionId: string, extra: string[] = []) {
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'rebuild', 'redis', '--election', electionId, ...extra], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: p.brokers, REDIS_URL: own.url, DYNAMODB_ENDPOINT: p.dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: p.prefix, LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function snapshot(e: string) {
    return { counts: await redis.hgetall(countsKey(e)), regions: await redis.hgetall(regionsKey(e)), offsets: await redis.hgetall(offsetsKey(e)) };
  }

  it('restores the counts exactly, refuses while the count path runs, and catches up when Redis was ahead of DynamoDB', async () => {
    const e = p.elections[0].electionId;
    const first = makeVotes(p, 1500, 21);
    await produceVotes(p, first.votes);
    let worker = await runWorker(p, { redisUrl: own.url });
    const { total } = expectedFor(first, e);
    await waitForTotal(redis, e, total);
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
    await waitForTotal(redis, e, allTotal);
    await stopWorkerCleanly(worker);
    await redis.flushall();
    const text = rebuild(e);
    expect(text.status, text.stderr).toBe(0);
    // Redis holds what DynamoDB holds, and the count group was rewound where it was ahead.
    expect(text.stdout).toContain(`election ${e}: total ${total}\n`);
    expect(text.stdout).toMatch(new RegExp(`count group ${votingGroupId(p.prefix, 'count')}: rewound \\d+ partition\\(s\\)`));
    expect(await snapshot(e)).toEqual(before);
    const admin = p.driver.createAdmin();
    const topic = topicNames(p.prefix).votesAccepted;
    const countOffsets = await admin.committedOffsets(votingGroupId(p.prefix, 'count'), [topic]);
    const persistOffsets = await admin.committedOffsets(votingGroupId(p.prefix, 'persist'), [topic]);
    await admin.close();
    expect(countOffsets).toEqual(persistOffsets);

    // The count path re-reads what DynamoDB lacked (the fences skip the rest), the persist path catches up.
    worker = await runWorker(p, { redisUrl: own.url });
    await waitForTotal(redis, e, allTotal);
    await waitForChains(p, e, allTotal);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, all);
  });
});
