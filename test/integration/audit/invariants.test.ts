/**
 * `audit invariants` (issue 12): the expected result computed from `votes` alone, compared with
 * `votes-accepted`, the DynamoDB chains, Redis and the official result, on an election that went
 * through the real pipeline. Clean, it reports nothing and exactly the counts; then each anomaly is
 * made (a Redis count, a fake duplicate chain item, a deleted chain item, an official result off by
 * one), named, and undone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../../voting/audit/invariants-check.js';
import { voteSk } from '../../../voting/hash-chain.js';
import { countsKey, officialKey, TOTAL_FIELD } from '../../../voting/redis-keys.js';
import { topicNames } from '../../../voting/topics.js';
import { decodeVoteItem } from '../../../voting/vote-chain.js';
import { encodeJson } from '../../../voting/vote.js';
import { runCli } from '../../support/cli.js';
import { produce } from '../../support/kafka-io.js';
import { produceVotes, redisKeyPrefix, runWorker, stopWorkerCleanly, waitForDedupCaughtUp } from '../../support/scenario.js';
import { auditedElection, numeric, type AuditedElection } from './verify-fixture.js';

describe('audit invariants', () => {
  let a: AuditedElection;
  let duplicates: number;

  beforeAll(async () => {
    a = await auditedElection('auditi', 1500, 62, 3);
    duplicates = a.set.votes.length - a.expected.total;
    // Votes the judging rule rejects, each for another reason; none may count anywhere.
    const base = a.set.votes[0];
    const invalid = (n: number, v: Partial<typeof base>) => ({ ...base, voteId: `00000000-0000-4000-8000-00000000010${n}`, voterId: `invalid${n}`, ...v });
    await produceVotes(a.p, [invalid(1, { candidateId: 'c9' }), invalid(2, { ts: 1_600_000_000_000 }), invalid(3, { region: 'X' })]);
    const keyedWrong = invalid(4, {});
    await produce(a.p.driver, [{ topic: topicNames(a.p.prefix).votes, key: Buffer.from('someone-else'), value: encodeJson(keyedWrong), timestamp: keyedWrong.ts }]);
    const again = await runWorker(a.p, {});
    await waitForDedupCaughtUp(a.p);
    await stopWorkerCleanly(again);
  });
  afterAll(async () => {
    await a?.close();
  });

  const anomalies = async () => (await checkInvariants(a.sources, a.e)).anomalies;

  it('reports no anomaly on the clean run, and exactly the expected counts', async () => {
    const report = await checkInvariants(a.sources, a.e);
    expect(report.anomalies).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.expected).toEqual({ counts: numeric(a.expected.counts), regions: numeric(a.expected.regions) });
    expect(report.votesRead).toBe(1504);
    expect(report.rejected).toEqual({ duplicate: duplicates, 'unknown-candidate': 1, 'unknown-election': 1, malformed: 2 });
    expect(report.lag).toEqual({ dedup: 0, count: 0, persist: 0 });
    expect(report.held).toEqual({ 'votes-accepted': a.expected.total, dynamodb: a.expected.total, redis: a.expected.total, official: null });
  });

  it('names a Redis count bumped by one as a miscount', async () => {
    const k = countsKey(a.e, redisKeyPrefix(a.p));
    await a.redis.hincrby(k, 'c2', 1);
    try {
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'redis', hash: 'counts', field: 'c2', expected: Number(a.expected.counts.c2), actual: Number(a.expected.counts.c2) + 1 }]);
    } finally {
      await a.redis.hincrby(k, 'c2', -1);
    }
  });

  it('names a second vote of a voter appended to a chain (hashes and head made right) as a duplicate', async () => {
    const { vote, victim, undo } = await a.appendSecondVote('00000000-0000-4000-8000-000000000001');
    try {
      const report = await checkInvariants(a.sources, a.e);
      expect(report.anomalies).toEqual([{ anomaly: 'duplicate', source: 'dynamodb', voterId: victim.voterId, voteIds: [victim.voteId, vote.voteId] }]);
      expect(report.held.dynamodb).toBe(a.expected.total + 1);
    } finally {
      await undo();
    }
    expect(await anomalies()).toEqual([]);
  });

  it('names a vote deleted from a chain as a lost-write, and a vote altered in a chain as a miscount', async () => {
    const original = await a.getItem(voteSk(2));
    const vote = decodeVoteItem(original);
    await a.deleteItem(voteSk(2));
    try {
      expect(await anomalies()).toEqual([{ anomaly: 'lost-write', source: 'dynamodb', voteIds: [vote.voteId] }]);
      const other = a.p.elections[0].candidates.map((c) => c.id).find((id) => id !== vote.candidateId)!;
      await a.putItem({ ...original, candidateId: { S: other } });
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'dynamodb', voteId: vote.voteId, field: 'candidateId', expected: vote.candidateId, actual: other }]);
    } finally {
      await a.putItem(original);
    }
    expect(await anomalies()).toEqual([]);
  });

  it('compares the official result when there is one', async () => {
    const k = officialKey(a.e, redisKeyPrefix(a.p));
    const candidates = Object.fromEntries(Object.entries(a.expected.counts).filter(([f]) => f !== TOTAL_FIELD));
    await a.redis.hset(k, { ...candidates, [TOTAL_FIELD]: String(a.expected.total), _verifiedAt: '1763800000000', _root: 'ab'.repeat(32) });
    try {
      const report = await checkInvariants(a.sources, a.e);
      expect(report.anomalies).toEqual([]);
      expect(report.held.official).toBe(a.expected.total);
      await a.redis.hincrby(k, TOTAL_FIELD, -1);
      expect(await anomalies()).toEqual([{ anomaly: 'miscount', source: 'official', hash: 'counts', field: TOTAL_FIELD, expected: a.expected.total, actual: a.expected.total - 1 }]);
    } finally {
      await a.redis.del(k);
    }
  });

  it('as a command: exit 0 with the report, 7 naming a miscount', async () => {
    const env = a.env;
    const clean = runCli(['audit', 'invariants', '--election', a.e, '--json'], env);
    expect(clean.status, clean.stderr).toBe(0);
    const report = JSON.parse(clean.stdout) as { ok: boolean; anomalies: unknown[]; expected: unknown };
    expect([report.ok, report.anomalies, report.expected]).toEqual([true, [], { counts: numeric(a.expected.counts), regions: numeric(a.expected.regions) }]);
    const k = countsKey(a.e, redisKeyPrefix(a.p));
    await a.redis.hincrby(k, 'c3', 1);
    try {
      const r = runCli(['audit', 'invariants', '--election', a.e], env);
      expect(r.status).toBe(7);
      expect(r.stdout).toContain(`\n  1 ANOMALY:\n  - miscount in redis: counts field c3: expected ${a.expected.counts.c3}, found ${Number(a.expected.counts.c3) + 1}\n`);
      expect(r.stderr).toBe(`votestream: audit invariants: 1 anomaly in election ${a.e}\n`);
    } finally {
      await a.redis.hincrby(k, 'c3', -1);
    }
  });

  // Last: it leaves votes the pipeline never processes.
  it('names votes the pipeline has not processed as lost-writes, and says the dedup path is behind', async () => {
    const base = a.set.votes[0];
    const late = [1, 2].map((n) => ({ ...base, voteId: `00000000-0000-4000-8000-00000000020${n}`, voterId: `late${n}`, candidateId: 'c1', region: 'N' }));
    await produceVotes(a.p, late);
    const report = await checkInvariants(a.sources, a.e);
    const ids = late.map((v) => v.voteId).sort();
    const c1 = Number(a.expected.counts.c1);
    const nc1 = Number(a.expected.regions['N:c1']);
    expect(report.anomalies).toEqual([
      { anomaly: 'lost-write', source: 'votes-accepted', voteIds: ids },
      { anomaly: 'lost-write', source: 'dynamodb', voteIds: ids },
      { anomaly: 'miscount', source: 'redis', hash: 'counts', field: TOTAL_FIELD, expected: a.expected.total + 2, actual: a.expected.total },
      { anomaly: 'miscount', source: 'redis', hash: 'counts', field: 'c1', expected: c1 + 2, actual: c1 },
      { anomaly: 'miscount', source: 'redis', hash: 'regions', field: 'N:c1', expected: nc1 + 2, actual: nc1 },
    ]);
    expect(report.lag).toEqual({ dedup: 2, count: 0, persist: 0 });
    const r = runCli(['audit', 'invariants', '--election', a.e], a.env);
    expect(r.status).toBe(7);
    expect(r.stdout).toContain('\n  note: the pipeline is behind (dedup 2, count 0, persist 0 record(s) not processed): differences may still be in flight\n');
  });
});
