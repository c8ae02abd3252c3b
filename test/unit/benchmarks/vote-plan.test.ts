import { describe, expect, it } from 'vitest';
import { ElectionSchema } from '../../../voting/election.js';
import { ID_PATTERN, VoteSchema } from '../../../voting/vote.js';
import { DUPLICATE_MIN_GAP_MS, expectedCounts, firstValidDueTimes, planElections, VotePlan, type VotePlanOptions } from '../../../benchmarks/run/vote-plan.js';

const base: VotePlanOptions = { runId: 'r1', rate: 1000, durationS: 9, warmupS: 1, voters: 1_000_000, dupRatio: 0.2, elections: 3, candidates: 4, regions: 2, seed: 42 };

describe('VotePlan', () => {
  it('has round(rate x (warm-up + duration)) votes, vote i due at i/rate', () => {
    expect(new VotePlan(base).total).toBe(10_000);
    expect(new VotePlan({ ...base, rate: 333, durationS: 1.5, warmupS: 0 }).total).toBe(500);
    const plan = new VotePlan({ ...base, rate: 400 });
    const votes = [...plan.votes()];
    expect(votes).toHaveLength(4000);
    votes.forEach((p, i) => {
      expect(p.i).toBe(i);
      expect(p.dueMs).toBe((i * 1000) / 400);
    });
  });

  it('makes schema-valid votes with distinct UUIDs and DESIGN ids, and valid elections', () => {
    const plan = new VotePlan(base);
    const ids = new Set<string>();
    for (const p of plan.votes()) {
      expect(VoteSchema.safeParse({ ...p.vote, ts: 1 }).success).toBe(true);
      expect(p.vote.voterId).toMatch(ID_PATTERN);
      expect(p.vote.electionId).toBe(p.electionId);
      ids.add(p.vote.voteId);
    }
    expect(ids.size).toBe(plan.total);
    const now = 1_800_000_000_000;
    const elections = planElections(base, now);
    expect(elections.map((e) => e.electionId)).toEqual(['r1-e1', 'r1-e2', 'r1-e3']);
    for (const e of elections) {
      expect(ElectionSchema.safeParse(e).success).toBe(true);
      expect(e.candidates.map((c) => c.id)).toEqual(['c1', 'c2', 'c3', 'c4']);
      expect(e.regions).toEqual(['R1', 'R2']);
      expect(e.opensAt).toBeLessThan(now);
      expect(e.effectiveAt).toBeLessThan(now);
      expect(e.closesAt).toBeGreaterThan(now + 3_600_000);
    }
  });

  it('repeats earlier voters at about dupRatio, >= 1 s after their first vote, with the same choice', () => {
    const plan = new VotePlan(base);
    const first = new Map<string, { dueMs: number; electionId: string; candidateId: string; region: string | undefined }>();
    let duplicates = 0;
    let eligibleVotes = 0;
    for (const p of plan.votes()) {
      if (p.dueMs >= DUPLICATE_MIN_GAP_MS) eligibleVotes++;
      const f = first.get(p.vote.voterId);
      if (f === undefined) {
        expect(p.firstValid).toBe(true);
        first.set(p.vote.voterId, { dueMs: p.dueMs, electionId: p.electionId, candidateId: p.candidateId, region: p.region });
        continue;
      }
      duplicates++;
      expect(p.firstValid).toBe(false);
      expect(p.dueMs - f.dueMs).toBeGreaterThanOrEqual(DUPLICATE_MIN_GAP_MS);
      expect({ electionId: p.electionId, candidateId: p.candidateId, region: p.region }).toEqual({ electionId: f.electionId, candidateId: f.candidateId, region: f.region });
    }
    // Only votes due after the first second can repeat anyone.
    const ratio = duplicates / eligibleVotes;
    expect(ratio).toBeGreaterThan(0.18);
    expect(ratio).toBeLessThan(0.22);
    expect(plan.voterCount).toBe(first.size);
    // Every election, candidate and region gets votes.
    const seen = new Set([...first.values()].map((f) => `${f.electionId}/${f.candidateId}/${f.region}`));
    expect(seen.size).toBe(3 * 4 * 2);
  });

  it('is deterministic for the same options, different for another seed or runId', () => {
    const a = [...new VotePlan(base).votes()].map((p) => JSON.stringify(p));
    const b = [...new VotePlan(base).votes()].map((p) => JSON.stringify(p));
    expect(a).toEqual(b);
    const c = [...new VotePlan({ ...base, seed: 43 }).votes()].map((p) => p.vote.voterId);
    expect(c).not.toEqual([...new VotePlan(base).votes()].map((p) => p.vote.voterId));
    expect(new VotePlan({ ...base, runId: 'r2' }).vote(5).vote.voteId).not.toBe(new VotePlan(base).vote(5).vote.voteId);
  });

  it('caps distinct voters: once reached every further vote is a duplicate', () => {
    const plan = new VotePlan({ ...base, voters: 1500, dupRatio: 0 });
    const votes = [...plan.votes()];
    expect(plan.voterCount).toBe(1500);
    expect(new Set(votes.map((p) => p.vote.voterId)).size).toBe(1500);
    // dupRatio 0: the first 1500 are fresh, all after are duplicates.
    expect(votes.slice(0, 1500).every((p) => p.firstValid)).toBe(true);
    expect(votes.slice(1500).every((p) => !p.firstValid)).toBe(true);
    expect(expectedCounts(plan, new Set()).get('r1-e1')!.total + expectedCounts(plan, new Set()).get('r1-e2')!.total + expectedCounts(plan, new Set()).get('r1-e3')!.total).toBe(1500);
  });

  it('gives one share per generator: i % N', () => {
    const plan = new VotePlan(base);
    const shares = [0, 1, 2].map((g) => [...plan.votes({ index: g, of: 3 })].map((p) => p.i));
    expect(shares.every((s, g) => s.every((i) => i % 3 === g))).toBe(true);
    expect(shares.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: plan.total }, (_, i) => i));
  });
});

describe('expectedCounts and firstValidDueTimes', () => {
  // 1 election, 2 candidates, no regions, 10 votes/s for 3 s: vote 10 onwards may repeat voters.
  const small: VotePlanOptions = { runId: 's', rate: 10, durationS: 3, warmupS: 0, voters: 1000, dupRatio: 0.5, elections: 1, candidates: 2, regions: 1, seed: 7 };

  it('counts each voter once, the failed original of an acknowledged duplicate included', () => {
    const plan = new VotePlan(small);
    const votes = [...plan.votes()];
    // Hand check: tally the plan's choices vote by vote, independently of expectedCounts.
    const byVoter = new Map<string, number[]>();
    for (const p of votes) byVoter.set(p.vote.voterId, [...(byVoter.get(p.vote.voterId) ?? []), p.i]);
    const repeated = [...byVoter.values()].find((is) => is.length >= 2)!;
    expect(repeated).toBeDefined();
    const [original, duplicate] = repeated;
    const once = [...byVoter.values()].find((is) => is.length === 1)!;
    const hand = (failed: Set<number>) => {
      const counts: Record<string, number> = {};
      const regions: Record<string, number> = {};
      let total = 0;
      for (const is of byVoter.values()) {
        const ok = is.filter((i) => !failed.has(i));
        if (ok.length === 0) continue;
        const p = votes[ok[0]];
        total++;
        counts[p.candidateId] = (counts[p.candidateId] ?? 0) + 1;
        regions[`${p.region}:${p.candidateId}`] = (regions[`${p.region}:${p.candidateId}`] ?? 0) + 1;
      }
      return { total, counts, regions };
    };
    const none = expectedCounts(plan, new Set());
    expect(none.get('s-e1')).toEqual(hand(new Set()));
    expect(none.get('s-e1')!.total).toBe(byVoter.size);

    // The original failed, its duplicate was acknowledged: the voter still counts, once, same candidate.
    const failedOriginal = new Set([original]);
    expect(expectedCounts(plan, failedOriginal)).toEqual(none);
    expect(firstValidDueTimes(plan, failedOriginal)).toContain(plan.dueMs(duplicate));
    expect(firstValidDueTimes(plan, failedOriginal)).not.toContain(plan.dueMs(original));

    // Every vote of that voter failed, and a single-vote voter failed: both disappear.
    const failedAll = new Set([...repeated, ...once]);
    const got = expectedCounts(plan, failedAll).get('s-e1')!;
    expect(got).toEqual(hand(failedAll));
    expect(got.total).toBe(byVoter.size - 2);
    const c1 = votes[original].candidateId;
    const c2 = votes[once[0]].candidateId;
    expect(got.counts[c1] ?? 0).toBe(none.get('s-e1')!.counts[c1] - (c1 === c2 ? 2 : 1));

    // Due times: one per counted voter, ascending.
    const due = firstValidDueTimes(plan, failedAll);
    expect(due).toHaveLength(got.total);
    expect([...due].sort((a, b) => a - b)).toEqual(due);
  });

  it('matches a tiny plan checked by hand', () => {
    // rate 1/s, dupRatio 1: vote 0 is fresh (nobody to repeat); from vote 1 on (1 s later) every
    // vote repeats voter 0, the only one there is.
    const plan = new VotePlan({ runId: 'h', rate: 1, durationS: 4, warmupS: 0, voters: 10, dupRatio: 1, elections: 2, candidates: 3, regions: 0, seed: 1 });
    const votes = [...plan.votes()];
    expect(votes.map((p) => p.vote.voterId)).toEqual(['vh-0', 'vh-0', 'vh-0', 'vh-0']);
    expect(votes.map((p) => p.firstValid)).toEqual([true, false, false, false]);
    const c = votes[0].candidateId;
    expect(votes.every((p) => p.region === undefined && p.vote.region === undefined && p.candidateId === c && p.electionId === 'h-e1')).toBe(true);
    const want = new Map([
      ['h-e1', { total: 1, counts: { [c]: 1 }, regions: {} }],
      ['h-e2', { total: 0, counts: {}, regions: {} }],
    ]);
    expect(expectedCounts(plan, new Set())).toEqual(want);
    expect(expectedCounts(plan, new Set([0, 1]))).toEqual(want);
    expect(firstValidDueTimes(plan, new Set([0, 1]))).toEqual([2000]);
    expect(expectedCounts(plan, new Set([0, 1, 2, 3])).get('h-e1')).toEqual({ total: 0, counts: {}, regions: {} });
    expect(firstValidDueTimes(plan, new Set([0, 1, 2, 3]))).toEqual([]);
  });
});
