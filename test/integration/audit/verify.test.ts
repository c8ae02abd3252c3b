/**
 * `audit verify` (issue 12) on an election that went through the real pipeline (Kafka, Redis,
 * DynamoDB Local, a worker process): clean, it reports exactly the counts; then each tampering of
 * the vote log is made in DynamoDB (or Redis), caught, named by chain, seq and field, and undone.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyFinding } from '../../../voting/audit/audit-report.js';
import { verifyElection, type AuditSources } from '../../../voting/audit/verify-chains.js';
import { chainPk, HEAD_SK, voteHash, voteSk } from '../../../voting/hash-chain.js';
import { countsKey, regionField, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { decodeVoteItem, readChain, voteItem, type StoredVote } from '../../../voting/vote-chain.js';
import { cliEnv, runCli } from '../../support/cli.js';
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
  waitForTotal,
  type Expected,
  type Pipeline,
} from '../../support/scenario.js';

type Item = Record<string, AttributeValue>;

const numeric = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));

describe('audit verify', () => {
  let p: Pipeline;
  let redis: Redis;
  let e: string;
  let expected: Expected;
  let sources: AuditSources;
  /** A chain with at least 4 votes, and its votes. */
  let chain: { partition: number; votes: StoredVote[] };

  beforeAll(async () => {
    p = await setupPipeline('auditv', 1);
    redis = new Redis(services().redis);
    e = p.elections[0].electionId;
    const set = makeVotes(p, 2000, 61);
    expected = expectedFor(set, e);
    await produceVotes(p, set.votes);
    const worker = await runWorker(p, {});
    await waitForTotal(redis, e, expected.total, 90_000, redisKeyPrefix(p));
    await waitForChains(p, e, expected.total);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, set);
    sources = { dynamodb: p.dynamodb, driver: p.driver, redis, prefix: p.prefix, partitions: PARTITIONS };
    for (let partition = 0; partition < PARTITIONS && chain === undefined; partition++) {
      const { votes } = await readChain(p.dynamodb, p.table, e, partition);
      if (votes.length >= 4) chain = { partition, votes };
    }
  });
  afterAll(async () => {
    await redis?.quit();
    await p?.cleanup();
  });

  const key = (sk: string) => ({ pk: { S: chainPk(e, chain.partition) }, sk: { S: sk } });
  const getItem = async (sk: string): Promise<Item> => (await p.dynamodb.send(new GetItemCommand({ TableName: p.table, Key: key(sk), ConsistentRead: true }))).Item!;
  const putItem = (item: Item) => p.dynamodb.send(new PutItemCommand({ TableName: p.table, Item: item }));
  const redisCount = (field: string) => Number(expected.counts[field] ?? 0);
  const redisRegion = (field: string) => Number(expected.regions[field] ?? 0);
  /** The Redis count findings when the chains hold `delta` more votes of `vote`'s candidate (and region) than Redis. */
  const countFindings = (changes: { candidateId: string; region?: string; delta: number }[]): VerifyFinding[] => {
    const counts = new Map<string, number>();
    const regions = new Map<string, number>();
    for (const c of changes) {
      counts.set(c.candidateId, (counts.get(c.candidateId) ?? 0) + c.delta);
      if (c.region !== undefined) regions.set(regionField(c.region, c.candidateId), (regions.get(regionField(c.region, c.candidateId)) ?? 0) + c.delta);
    }
    const total = changes.reduce((n, c) => n + c.delta, 0);
    if (total !== 0) counts.set(TOTAL_FIELD, total);
    const sortKeys = (m: Map<string, number>) => [...m].filter(([, d]) => d !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
    return [
      ...sortKeys(counts).map(([field, d]): VerifyFinding => ({ kind: 'count', source: 'redis', hash: 'counts', field, dynamodb: redisCount(field) + d, redis: redisCount(field) })),
      ...sortKeys(regions).map(([field, d]): VerifyFinding => ({ kind: 'count', source: 'redis', hash: 'regions', field, dynamodb: redisRegion(field) + d, redis: redisRegion(field) })),
    ];
  };
  const findings = async () => (await verifyElection(sources, e)).findings;

  it('verifies the clean election with exact counts', async () => {
    const report = await verifyElection(sources, e);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.votes).toBe(expected.total);
    expect(report.votesAccepted).toBe(expected.total);
    expect(report.partitions).toBe(PARTITIONS);
    expect(report.tally).toEqual({ counts: numeric(expected.counts), regions: numeric(expected.regions) });
    expect(report.redis).toEqual({ counts: numeric(expected.counts), regions: numeric(expected.regions) });
    expect(report.chains.reduce((n, c) => n + c.votes, 0)).toBe(expected.total);
    expect(report.chains.every((c) => c.votes === c.lastSeq && c.beyondHead === 0)).toBe(true);
  });

  it('catches an altered candidateId: the hash, the field against votes-accepted, the counts', async () => {
    const sk = voteSk(2);
    const original = await getItem(sk);
    const vote = decodeVoteItem(original);
    const other = p.elections[0].candidates.map((c) => c.id).find((id) => id !== vote.candidateId)!;
    await putItem({ ...original, candidateId: { S: other } });
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: chain.partition, seq: 2, field: 'hash', expected: voteHash({ ...vote, candidateId: other }), actual: vote.hash },
        { kind: 'vote-field', partition: chain.partition, seq: 2, voteId: vote.voteId, field: 'candidateId', dynamodb: other, votesAccepted: vote.candidateId },
        ...countFindings([
          { candidateId: vote.candidateId, region: vote.region, delta: -1 },
          { candidateId: other, region: vote.region, delta: +1 },
        ]),
      ]);
    } finally {
      await putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a vote the judging rule rejects (a candidate the election does not have)', async () => {
    const original = await getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    // Re-hashed, so only the judging rule and the other sources can tell.
    const forged = { ...vote, candidateId: 'c9' };
    await putItem({ ...original, candidateId: { S: 'c9' }, hash: { S: voteHash(forged) } });
    const third = await getItem(voteSk(3));
    await putItem({ ...third, prevHash: { S: voteHash(forged) } });
    try {
      const thirdVote = decodeVoteItem(third);
      expect(await findings()).toEqual([
        // The link after it no longer matches its stored hash (its prevHash changed with it).
        { kind: 'chain', partition: chain.partition, seq: 3, field: 'hash', expected: voteHash({ ...thirdVote, prevHash: voteHash(forged) }), actual: thirdVote.hash },
        { kind: 'vote-field', partition: chain.partition, seq: 2, voteId: vote.voteId, field: 'candidateId', dynamodb: 'c9', votesAccepted: vote.candidateId },
        { kind: 'invalid-vote', partition: chain.partition, seq: 2, voteId: vote.voteId, reason: 'unknown-candidate', version: 1 },
        ...countFindings([
          { candidateId: vote.candidateId, region: vote.region, delta: -1 },
          { candidateId: 'c9', region: vote.region, delta: +1 },
        ]),
      ]);
    } finally {
      await putItem(original);
      await putItem(third);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a voter twice in the election (a fake item appended with its hash and head made right)', async () => {
    const headItem = await getItem(HEAD_SK);
    const n = Number(headItem.lastSeq.N);
    const [last, victim] = [chain.votes[n - 1], chain.votes[0]];
    const fake: StoredVote = { ...victim, voteId: '00000000-0000-4000-8000-000000000002', seq: n + 1, prevHash: last.hash, offset: last.offset + 1, sourceOffset: last.sourceOffset + 1, hash: '' };
    const hashed = { ...fake, hash: voteHash(fake) };
    await putItem(voteItem(hashed));
    await putItem({ ...headItem, lastSeq: { N: String(n + 1) }, lastHash: { S: hashed.hash }, lastOffset: { N: String(hashed.offset) } });
    try {
      expect(await findings()).toEqual([
        {
          kind: 'duplicate-voter',
          voterId: victim.voterId,
          votes: [
            { partition: chain.partition, seq: 1, voteId: victim.voteId },
            { partition: chain.partition, seq: n + 1, voteId: hashed.voteId },
          ],
        },
        ...countFindings([{ candidateId: victim.candidateId, region: victim.region, delta: +1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [hashed.voteId], onlyInVotesAccepted: [] },
      ]);
    } finally {
      await putItem(headItem);
      await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(voteSk(n + 1)) }));
    }
    expect(await findings()).toEqual([]);
  });

  it('catches an altered hash and an altered prevHash, by chain and seq', async () => {
    const sk = voteSk(2);
    const original = await getItem(sk);
    const vote = decodeVoteItem(original);
    const forged = 'f'.repeat(64);
    await putItem({ ...original, hash: { S: forged } });
    try {
      expect(await findings()).toEqual([{ kind: 'chain', partition: chain.partition, seq: 2, field: 'hash', expected: vote.hash, actual: forged }]);
      await putItem({ ...original, prevHash: { S: forged } });
      expect(await findings()).toEqual([{ kind: 'chain', partition: chain.partition, seq: 2, field: 'prevHash', expected: chain.votes[0].hash, actual: forged }]);
    } finally {
      await putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a deleted vote: the seq gap, the counts, and the voteId only votes-accepted holds', async () => {
    const original = await getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(voteSk(2)) }));
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: chain.partition, seq: 3, field: 'seq', expected: '2', actual: '3' },
        ...countFindings([{ candidateId: vote.candidateId, region: vote.region, delta: -1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [], onlyInVotesAccepted: [vote.voteId] },
      ]);
    } finally {
      await putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches two swapped votes: the broken link and the offset running backwards', async () => {
    const [second, third] = [await getItem(voteSk(2)), await getItem(voteSk(3))];
    const [v2, v3] = [decodeVoteItem(second), decodeVoteItem(third)];
    await putItem({ ...third, sk: { S: voteSk(2) } });
    await putItem({ ...second, sk: { S: voteSk(3) } });
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: chain.partition, seq: 2, field: 'prevHash', expected: chain.votes[0].hash, actual: v2.hash },
        { kind: 'chain', partition: chain.partition, seq: 3, field: 'offset', expected: `> ${v3.offset}`, actual: String(v2.offset) },
      ]);
    } finally {
      await putItem(second);
      await putItem(third);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a head moved back one vote: the head, the counts, the voteId the chain no longer counts', async () => {
    const head = await getItem(HEAD_SK);
    const n = Number(head.lastSeq.N);
    const [last, before] = [chain.votes[n - 1], chain.votes[n - 2]];
    await putItem({ ...head, lastSeq: { N: String(n - 1) }, lastHash: { S: before.hash }, lastOffset: { N: String(before.offset) } });
    try {
      const report = await verifyElection(sources, e);
      expect(report.findings).toEqual([
        { kind: 'chain', partition: chain.partition, seq: n - 1, field: 'head', expected: String(n), actual: String(n - 1) },
        ...countFindings([{ candidateId: last.candidateId, region: last.region, delta: -1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [], onlyInVotesAccepted: [last.voteId] },
      ]);
      expect(report.chains.find((c) => c.partition === chain.partition)).toEqual({ partition: chain.partition, votes: n - 1, lastSeq: n - 1, lastOffset: before.offset, beyondHead: 1 });
    } finally {
      await putItem(head);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a Redis count off by one', async () => {
    const k = countsKey(e, redisKeyPrefix(p));
    await redis.hincrby(k, 'c1', 1);
    try {
      expect(await findings()).toEqual([{ kind: 'count', source: 'redis', hash: 'counts', field: 'c1', dynamodb: redisCount('c1'), redis: redisCount('c1') + 1 }]);
    } finally {
      await redis.hincrby(k, 'c1', -1);
    }
  });

  it('as a command: exit 0 and the report when clean, 7 naming the discrepancy, 4 when a service is down', () => {
    const env = cliEnv({ brokers: p.brokers, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });
    const clean = runCli(['audit', 'verify', '--election', e], env);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(new RegExp(`^audit verify: election ${e}: ${expected.total} vote\\(s\\) in \\d+ of ${PARTITIONS} chain\\(s\\), ${expected.total} on votes-accepted \\(`));
    const fields = (m: Record<string, string>) => Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ');
    expect(clean.stdout).toContain(`\n  counts:  ${fields(expected.counts)}\n  regions: ${fields(expected.regions)}\n  OK: `);
    expect(clean.stderr).toBe('');

    const json = runCli(['audit', 'verify', '--election', e, '--json'], env);
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; votes: number; findings: unknown[] };
    expect([report.ok, report.votes, report.findings]).toEqual([true, expected.total, []]);

    const down = runCli(['audit', 'verify', '--election', e], { ...env, DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' });
    expect(down.status).toBe(4);
    expect(down.stderr).toBe('votestream: not answering: DynamoDB at http://127.0.0.1:1\n');
    expect(down.stdout).toBe('');

    const bad = runCli(['audit', 'verify', '--election', 'no{pe'], env);
    expect(bad.status).toBe(2);
  });

  it('as a command, exits 7 and names a deleted vote by chain, seq and voteId', async () => {
    const original = await getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(voteSk(2)) }));
    try {
      const env = cliEnv({ brokers: p.brokers, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });
      const r = runCli(['audit', 'verify', '--election', e], env);
      expect(r.status).toBe(7);
      const discrepancies = 1 + countFindings([{ candidateId: vote.candidateId, region: vote.region, delta: -1 }]).length + 1;
      expect(r.stdout).toContain(`\n  ${discrepancies} DISCREPANCIES:\n  - chain ${chain.partition} seq 3 field seq: expected 2, found 3\n`);
      expect(r.stdout).toContain(`\n    only in DynamoDB (0): -\n    only in votes-accepted (1): ${vote.voteId}\n`);
      expect(r.stderr).toBe(`votestream: audit verify: ${discrepancies} discrepancies in election ${e}\n`);
    } finally {
      await putItem(original);
    }
  });
});
