/**
 * `audit verify` (issue 12) on an election that went through the real pipeline (Kafka, Redis,
 * DynamoDB Local, a worker process): clean, it reports exactly the counts; then each tampering of
 * the vote log is made in DynamoDB (or Redis), caught, named by chain, seq and field, and undone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyFinding } from '../../../voting/audit/audit-report.js';
import { verifyElection } from '../../../voting/audit/verify-chains.js';
import { HEAD_SK, voteHash, voteSk } from '../../../voting/hash-chain.js';
import { countsKey, regionField, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { decodeVoteItem } from '../../../voting/vote-chain.js';
import { runCli } from '../../support/cli.js';
import { PARTITIONS, redisKeyPrefix } from '../../support/scenario.js';
import { auditedElection, numeric, type AuditedElection } from './verify-fixture.js';

describe('audit verify', () => {
  let a: AuditedElection;
  beforeAll(async () => {
    a = await auditedElection('auditv', 2000, 61, 4);
  });
  afterAll(async () => {
    await a?.close();
  });

  const redisCount = (field: string) => Number(a.expected.counts[field] ?? 0);
  const redisRegion = (field: string) => Number(a.expected.regions[field] ?? 0);
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
    const sortKeys = (m: Map<string, number>) => [...m].filter(([, d]) => d !== 0).sort(([x], [y]) => (x < y ? -1 : 1));
    return [
      ...sortKeys(counts).map(([field, d]): VerifyFinding => ({ kind: 'count', source: 'redis', hash: 'counts', field, dynamodb: redisCount(field) + d, redis: redisCount(field) })),
      ...sortKeys(regions).map(([field, d]): VerifyFinding => ({ kind: 'count', source: 'redis', hash: 'regions', field, dynamodb: redisRegion(field) + d, redis: redisRegion(field) })),
    ];
  };
  const findings = async () => (await verifyElection(a.sources, a.e)).findings;

  it('verifies the clean election with exact counts', async () => {
    const report = await verifyElection(a.sources, a.e);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.votes).toBe(a.expected.total);
    expect(report.votesAccepted).toBe(a.expected.total);
    expect(report.lag).toEqual({ dedup: 0, count: 0, persist: 0 });
    expect(report.partitions).toBe(PARTITIONS);
    expect(report.tally).toEqual({ counts: numeric(a.expected.counts), regions: numeric(a.expected.regions) });
    expect(report.redis).toEqual({ counts: numeric(a.expected.counts), regions: numeric(a.expected.regions) });
    expect(report.chains.reduce((n, c) => n + c.votes, 0)).toBe(a.expected.total);
    expect(report.chains.every((c) => c.votes === c.lastSeq && c.beyondHead === 0)).toBe(true);
  });

  it('catches an altered candidateId: the hash, the field against votes-accepted, the counts', async () => {
    const sk = voteSk(2);
    const original = await a.getItem(sk);
    const vote = decodeVoteItem(original);
    const other = a.p.elections[0].candidates.map((c) => c.id).find((id) => id !== vote.candidateId)!;
    await a.putItem({ ...original, candidateId: { S: other } });
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: a.chain.partition, seq: 2, field: 'hash', expected: voteHash({ ...vote, candidateId: other }), actual: vote.hash },
        { kind: 'vote-field', partition: a.chain.partition, seq: 2, voteId: vote.voteId, field: 'candidateId', dynamodb: other, votesAccepted: vote.candidateId },
        ...countFindings([
          { candidateId: vote.candidateId, region: vote.region, delta: -1 },
          { candidateId: other, region: vote.region, delta: +1 },
        ]),
      ]);
    } finally {
      await a.putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a vote the judging rule rejects (a candidate the election does not have)', async () => {
    const original = await a.getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    // Re-hashed, so only the judging rule and the other sources can tell.
    const forged = { ...vote, candidateId: 'c9' };
    await a.putItem({ ...original, candidateId: { S: 'c9' }, hash: { S: voteHash(forged) } });
    const third = await a.getItem(voteSk(3));
    await a.putItem({ ...third, prevHash: { S: voteHash(forged) } });
    try {
      const thirdVote = decodeVoteItem(third);
      expect(await findings()).toEqual([
        // The link after it no longer matches its stored hash (its prevHash changed with it).
        { kind: 'chain', partition: a.chain.partition, seq: 3, field: 'hash', expected: voteHash({ ...thirdVote, prevHash: voteHash(forged) }), actual: thirdVote.hash },
        { kind: 'vote-field', partition: a.chain.partition, seq: 2, voteId: vote.voteId, field: 'candidateId', dynamodb: 'c9', votesAccepted: vote.candidateId },
        { kind: 'invalid-vote', partition: a.chain.partition, seq: 2, voteId: vote.voteId, reason: 'unknown-candidate', version: 1 },
        ...countFindings([
          { candidateId: vote.candidateId, region: vote.region, delta: -1 },
          { candidateId: 'c9', region: vote.region, delta: +1 },
        ]),
      ]);
    } finally {
      await a.putItem(original);
      await a.putItem(third);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a voter twice in the election (a second vote appended with its hash and head made right)', async () => {
    const { vote, victim, undo } = await a.appendSecondVote('00000000-0000-4000-8000-000000000002');
    try {
      expect(await findings()).toEqual([
        {
          kind: 'duplicate-voter',
          voterId: victim.voterId,
          votes: [
            { partition: a.chain.partition, seq: 1, voteId: victim.voteId },
            { partition: a.chain.partition, seq: vote.seq, voteId: vote.voteId },
          ],
        },
        ...countFindings([{ candidateId: victim.candidateId, region: victim.region, delta: +1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [vote.voteId], onlyInVotesAccepted: [] },
      ]);
    } finally {
      await undo();
    }
    expect(await findings()).toEqual([]);
  });

  it('catches an altered hash and an altered prevHash, by chain and seq', async () => {
    const sk = voteSk(2);
    const original = await a.getItem(sk);
    const vote = decodeVoteItem(original);
    const forged = 'f'.repeat(64);
    await a.putItem({ ...original, hash: { S: forged } });
    try {
      expect(await findings()).toEqual([{ kind: 'chain', partition: a.chain.partition, seq: 2, field: 'hash', expected: vote.hash, actual: forged }]);
      await a.putItem({ ...original, prevHash: { S: forged } });
      expect(await findings()).toEqual([{ kind: 'chain', partition: a.chain.partition, seq: 2, field: 'prevHash', expected: a.chain.votes[0].hash, actual: forged }]);
    } finally {
      await a.putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a deleted vote: the seq gap, the counts, and the voteId only votes-accepted holds', async () => {
    const original = await a.getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await a.deleteItem(voteSk(2));
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: a.chain.partition, seq: 3, field: 'seq', expected: '2', actual: '3' },
        ...countFindings([{ candidateId: vote.candidateId, region: vote.region, delta: -1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [], onlyInVotesAccepted: [vote.voteId] },
      ]);
    } finally {
      await a.putItem(original);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches two swapped votes: the broken link and the offset running backwards', async () => {
    const [second, third] = [await a.getItem(voteSk(2)), await a.getItem(voteSk(3))];
    const [v2, v3] = [decodeVoteItem(second), decodeVoteItem(third)];
    await a.putItem({ ...third, sk: { S: voteSk(2) } });
    await a.putItem({ ...second, sk: { S: voteSk(3) } });
    try {
      expect(await findings()).toEqual([
        { kind: 'chain', partition: a.chain.partition, seq: 2, field: 'prevHash', expected: a.chain.votes[0].hash, actual: v2.hash },
        { kind: 'chain', partition: a.chain.partition, seq: 3, field: 'offset', expected: `> ${v3.offset}`, actual: String(v2.offset) },
      ]);
    } finally {
      await a.putItem(second);
      await a.putItem(third);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a head moved back one vote: the head, the counts, the voteId the chain no longer counts', async () => {
    const head = await a.getItem(HEAD_SK);
    const n = Number(head.lastSeq.N);
    const [last, before] = [a.chain.votes[n - 1], a.chain.votes[n - 2]];
    await a.putItem({ ...head, lastSeq: { N: String(n - 1) }, lastHash: { S: before.hash }, lastOffset: { N: String(before.offset) } });
    try {
      const report = await verifyElection(a.sources, a.e);
      expect(report.findings).toEqual([
        { kind: 'chain', partition: a.chain.partition, seq: n - 1, field: 'head', expected: String(n), actual: String(n - 1) },
        ...countFindings([{ candidateId: last.candidateId, region: last.region, delta: -1 }]),
        { kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb: [], onlyInVotesAccepted: [last.voteId] },
      ]);
      expect(report.chains.find((c) => c.partition === a.chain.partition)).toEqual({ partition: a.chain.partition, votes: n - 1, lastSeq: n - 1, lastOffset: before.offset, beyondHead: 1 });
    } finally {
      await a.putItem(head);
    }
    expect(await findings()).toEqual([]);
  });

  it('catches a Redis count off by one', async () => {
    const k = countsKey(a.e, redisKeyPrefix(a.p));
    await a.redis.hincrby(k, 'c1', 1);
    try {
      expect(await findings()).toEqual([{ kind: 'count', source: 'redis', hash: 'counts', field: 'c1', dynamodb: redisCount('c1'), redis: redisCount('c1') + 1 }]);
    } finally {
      await a.redis.hincrby(k, 'c1', -1);
    }
  });

  it('as a command: exit 0 and the report when clean, 7 naming the discrepancy, 4 when a service is down', () => {
    const env = a.env;
    const clean = runCli(['audit', 'verify', '--election', a.e], env);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(new RegExp(`^audit verify: election ${a.e}: ${a.expected.total} vote\\(s\\) in \\d+ of ${PARTITIONS} chain\\(s\\), ${a.expected.total} on votes-accepted \\(`));
    const fields = (m: Record<string, string>) => Object.entries(m).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ');
    expect(clean.stdout).toContain(`\n  counts:  ${fields(a.expected.counts)}\n  regions: ${fields(a.expected.regions)}\n  OK: `);
    expect(clean.stderr).toBe('');

    const json = runCli(['audit', 'verify', '--election', a.e, '--json'], env);
    expect(json.status, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; votes: number; findings: unknown[] };
    expect([report.ok, report.votes, report.findings]).toEqual([true, a.expected.total, []]);

    const down = runCli(['audit', 'verify', '--election', a.e], { ...env, DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' });
    expect(down.status).toBe(4);
    expect(down.stderr).toBe('votestream: not answering: DynamoDB at http://127.0.0.1:1\n');
    expect(down.stdout).toBe('');

    const bad = runCli(['audit', 'verify', '--election', 'no{pe'], env);
    expect(bad.status).toBe(2);
  });

  it('as a command, exits 7 and names a deleted vote by chain, seq and voteId', async () => {
    const original = await a.getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await a.deleteItem(voteSk(2));
    try {
      const env = a.env;
      const r = runCli(['audit', 'verify', '--election', a.e], env);
      expect(r.status).toBe(7);
      const discrepancies = 1 + countFindings([{ candidateId: vote.candidateId, region: vote.region, delta: -1 }]).length + 1;
      expect(r.stdout).toContain(`\n  ${discrepancies} DISCREPANCIES:\n  - chain ${a.chain.partition} seq 3 field seq: expected 2, found 3\n`);
      expect(r.stdout).toContain(`\n    only in DynamoDB (0): -\n    only in votes-accepted (1): ${vote.voteId}\n`);
      expect(r.stderr).toBe(`votestream: audit verify: ${discrepancies} discrepancies in election ${a.e}\n`);
    } finally {
      await a.putItem(original);
    }
  });
});
