/**
 * `audit invariants` (issue 12): the expected result computed from `votes` alone, compared with
 * `votes-accepted`, the DynamoDB chains, Redis and the official result, on an election that went
 * through the real pipeline. Clean, it reports nothing and exactly the counts; then each anomaly is
 * made (a Redis count, a fake duplicate chain item, a deleted chain item, an official result off by
 * one), named, and undone.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../../voting/audit/invariants-check.js';
import type { AuditSources } from '../../../voting/audit/verify-chains.js';
import { chainPk, HEAD_SK, voteHash, voteSk } from '../../../voting/hash-chain.js';
import { countsKey, officialKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { decodeVoteItem, readChain, voteItem, type StoredVote } from '../../../voting/vote-chain.js';
import { topicNames } from '../../../voting/topics.js';
import { encodeJson } from '../../../voting/vote.js';
import { cliEnv, runCli } from '../../support/cli.js';
import { produce } from '../../support/kafka-io.js';
import { services } from '../../support/services.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  PARTITIONS,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForDedupCaughtUp,
  waitForTotal,
  type Expected,
  type Pipeline,
} from '../../support/scenario.js';

type Item = Record<string, AttributeValue>;

const numeric = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));

describe('audit invariants', () => {
  let p: Pipeline;
  let redis: Redis;
  let e: string;
  let expected: Expected;
  let duplicates: number;
  let sources: AuditSources;
  let chain: { partition: number; votes: StoredVote[] };

  beforeAll(async () => {
    p = await setupPipeline('auditi', 1);
    redis = new Redis(services().redis);
    e = p.elections[0].electionId;
    const set = makeVotes(p, 1500, 62);
    expected = expectedFor(set, e);
    duplicates = set.votes.length - expected.total;
    await produceVotes(p, set.votes);
    const worker = await runWorker(p, {});
    await waitForTotal(redis, e, expected.total, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, expected.total);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, set);
    // Votes the judging rule rejects, each for another reason; none may count anywhere.
    const base = set.votes[0];
    const invalid = (n: number, v: Partial<typeof base>) => ({ ...base, voteId: `00000000-0000-4000-8000-00000000010${n}`, voterId: `invalid${n}`, ...v });
    await produceVotes(p, [invalid(1, { candidateId: 'c9' }), invalid(2, { ts: 1_600_000_000_000 }), invalid(3, { region: 'X' })]);
    const keyedWrong = invalid(4, {});
    await produce(p.driver, [{ topic: topicNames(p.prefix).votes, key: Buffer.from('someone-else'), value: encodeJson(keyedWrong), timestamp: keyedWrong.ts }]);
    const again = await runWorker(p, {});
    await waitForDedupCaughtUp(p);
    await stopWorkerCleanly(again);
    sources = { dynamodb: p.dynamodb, driver: p.driver, redis, prefix: p.prefix, partitions: PARTITIONS };
    for (let partition = 0; partition < PARTITIONS && chain === undefined; partition++) {
      const { votes } = await readChain(p.dynamodb, p.table, e, partition);
      if (votes.length >= 3) chain = { partition, votes };
    }
  });
  afterAll(async () => {
    await redis?.quit();
    await p?.cleanup();
  });

  const key = (sk: string) => ({ pk: { S: chainPk(e, chain.partition) }, sk: { S: sk } });
  const getItem = async (sk: string): Promise<Item> => (await p.dynamodb.send(new GetItemCommand({ TableName: p.table, Key: key(sk), ConsistentRead: true }))).Item!;
  const putItem = (item: Item) => p.dynamodb.send(new PutItemCommand({ TableName: p.table, Item: item }));
  const anomalies = async () => (await checkInvariants(sources, e)).anomalies;

  it('reports no anomaly on the clean run, and exactly the expected counts', async () => {
    const report = await checkInvariants(sources, e);
    expect(report.anomalies).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.expected).toEqual({ counts: numeric(expected.counts), regions: numeric(expected.regions) });
    expect(report.votesRead).toBe(1504);
    expect(report.rejected).toEqual({ duplicate: duplicates, 'unknown-candidate': 1, 'unknown-election': 1, malformed: 2 });
    expect(report.held).toEqual({ 'votes-accepted': expected.total, dynamodb: expected.total, redis: expected.total, official: null });
  });

  it('names a Redis count bumped by one as a miscount', async () => {
    const k = countsKey(e, redisKeyPrefix(p));
    await redis.hincrby(k, 'c2', 1);
    try {
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'redis', hash: 'counts', field: 'c2', expected: Number(expected.counts.c2), actual: Number(expected.counts.c2) + 1 }]);
    } finally {
      await redis.hincrby(k, 'c2', -1);
    }
  });

  it('names a fake duplicate chain item (a second vote of a voter, hashes and head made right) as a duplicate', async () => {
    const headItem = await getItem(HEAD_SK);
    const n = Number(headItem.lastSeq.N);
    const last = chain.votes[n - 1];
    const victim = chain.votes[0];
    const fakeVoteId = '00000000-0000-4000-8000-000000000001';
    const fake: StoredVote = {
      ...victim,
      voteId: fakeVoteId,
      seq: n + 1,
      prevHash: last.hash,
      offset: last.offset + 1,
      sourceOffset: last.sourceOffset + 1,
      hash: '',
    };
    const hashed = { ...fake, hash: voteHash(fake) };
    await putItem(voteItem(hashed));
    await putItem({ ...headItem, lastSeq: { N: String(n + 1) }, lastHash: { S: hashed.hash }, lastOffset: { N: String(hashed.offset) } });
    try {
      const report = await checkInvariants(sources, e);
      expect(report.anomalies).toEqual([{ anomaly: 'duplicate', source: 'dynamodb', voterId: victim.voterId, voteIds: [victim.voteId, fakeVoteId] }]);
      expect(report.held.dynamodb).toBe(expected.total + 1);
    } finally {
      await putItem(headItem);
      await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(voteSk(n + 1)) }));
    }
    expect(await anomalies()).toEqual([]);
  });

  it('names a vote deleted from a chain as a lost-write, and a vote altered in a chain as a miscount', async () => {
    const original = await getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(voteSk(2)) }));
    try {
      expect(await anomalies()).toEqual([{ anomaly: 'lost-write', source: 'dynamodb', voteIds: [vote.voteId] }]);
      const other = p.elections[0].candidates.map((c) => c.id).find((id) => id !== vote.candidateId)!;
      await putItem({ ...original, candidateId: { S: other } });
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'dynamodb', voteId: vote.voteId, field: 'candidateId', expected: vote.candidateId, actual: other }]);
    } finally {
      await putItem(original);
    }
    expect(await anomalies()).toEqual([]);
  });

  it('compares the official result when there is one', async () => {
    const k = officialKey(e, redisKeyPrefix(p));
    const candidates = Object.fromEntries(Object.entries(expected.counts).filter(([f]) => f !== TOTAL_FIELD));
    await redis.hset(k, { ...candidates, [TOTAL_FIELD]: String(expected.total), _verifiedAt: '1763800000000', _root: 'ab'.repeat(32) });
    try {
      const report = await checkInvariants(sources, e);
      expect(report.anomalies).toEqual([]);
      expect(report.held.official).toBe(expected.total);
      await redis.hincrby(k, TOTAL_FIELD, -1);
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'official', hash: 'counts', field: TOTAL_FIELD, expected: expected.total, actual: expected.total - 1 }]);
    } finally {
      await redis.del(k);
    }
  });

  it('as a command: exit 0 with the report, 7 naming a miscount', async () => {
    const env = cliEnv({ brokers: p.brokers, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });
    const clean = runCli(['audit', 'invariants', '--election', e, '--json'], env);
    expect(clean.status, clean.stderr).toBe(0);
    const report = JSON.parse(clean.stdout) as { ok: boolean; anomalies: unknown[]; expected: unknown };
    expect([report.ok, report.anomalies, report.expected]).toEqual([true, [], { counts: numeric(expected.counts), regions: numeric(expected.regions) }]);
    const k = countsKey(e, redisKeyPrefix(p));
    await redis.hincrby(k, 'c3', 1);
    try {
      const r = runCli(['audit', 'invariants', '--election', e], env);
      expect(r.status).toBe(7);
      expect(r.stdout).toContain(`\n  1 ANOMALY:\n  - miscount in redis: counts field c3: expected ${expected.counts.c3}, found ${Number(expected.counts.c3) + 1}\n`);
      expect(r.stderr).toBe(`votestream: audit invariants: 1 anomaly in election ${e}\n`);
    } finally {
      await redis.hincrby(k, 'c3', -1);
    }
  });
});
