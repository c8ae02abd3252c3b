import { describe, expect, it, vi } from 'vitest';
import { decideVote, isWithinWindow, type Election, type RejectReason, type Vote } from '../../../voting/index.js';

const OPENS = 1763790000000;
const CLOSES = 1763810000000;
const election: Election = {
  electionId: 'e1',
  version: 1,
  effectiveAt: OPENS - 1000,
  title: 'Mayor',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c3', name: 'Bruno' },
  ],
  regions: ['SP', 'RJ'],
  opensAt: OPENS,
  closesAt: CLOSES,
};
const vote: Vote = { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80', electionId: 'e1', voterId: 'u42', candidateId: 'c3', region: 'SP', ts: 1763800000000 };
const { region: _r, ...noRegion } = vote;

describe('decideVote', () => {
  const table: [string, Vote, Election | undefined, RejectReason | undefined][] = [
    ['valid vote', vote, election, undefined],
    ['valid vote without region', noRegion, election, undefined],
    ['no election record', vote, undefined, 'unknown-election'],
    ['election record for another id', vote, { ...election, electionId: 'e2' }, 'unknown-election'],
    ['candidate not in election', { ...vote, candidateId: 'c2' }, election, 'unknown-candidate'],
    ['candidate id differs in case', { ...vote, candidateId: 'C3' }, election, 'unknown-candidate'],
    ['region not in election regions', { ...vote, region: 'MG' }, election, 'malformed'],
    ['any region when election has no regions', { ...vote, region: 'MG' }, { ...election, regions: [] }, undefined],
    ['no region when election has no regions', noRegion, { ...election, regions: [] }, undefined],
    ['ts == opensAt (inclusive)', { ...vote, ts: OPENS }, election, undefined],
    ['ts == opensAt - 1', { ...vote, ts: OPENS - 1 }, election, 'closed'],
    ['ts == closesAt (inclusive)', { ...vote, ts: CLOSES }, election, undefined],
    ['ts == closesAt + 1', { ...vote, ts: CLOSES + 1 }, election, 'closed'],
    ['ts 0', { ...vote, ts: 0 }, election, 'closed'],
    ['draft (window not yet including ts)', vote, { ...election, opensAt: vote.ts + 1, closesAt: vote.ts + 10 }, 'closed'],
    ['closed early (closesAt moved to before ts)', vote, { ...election, version: 2, closesAt: vote.ts - 1 }, 'closed'],
    ['closed early at exactly ts', vote, { ...election, version: 2, closesAt: vote.ts }, undefined],
    // Order of rules: unknown-candidate before region before closed.
    ['unknown candidate and late', { ...vote, candidateId: 'cX', ts: CLOSES + 1 }, election, 'unknown-candidate'],
    ['unknown candidate and bad region', { ...vote, candidateId: 'cX', region: 'MG' }, election, 'unknown-candidate'],
    ['bad region and late', { ...vote, region: 'MG', ts: CLOSES + 1 }, election, 'malformed'],
    ['bad region and draft', { ...vote, region: 'MG' }, { ...election, opensAt: vote.ts + 1 }, 'malformed'],
  ];
  it.each(table)('%s', (_name, v, e, expected) => {
    expect(decideVote(v, e)).toBe(expected);
  });

  it('uses a Set for large candidate and region lists, with the same answers', () => {
    const big: Election = {
      ...election,
      candidates: Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, name: `N${i}` })),
      regions: Array.from({ length: 100 }, (_, i) => `R${i}`),
    };
    expect(decideVote({ ...vote, candidateId: 'c99', region: 'R0' }, big)).toBe(undefined);
    expect(decideVote({ ...vote, candidateId: 'c0', region: 'R99' }, big)).toBe(undefined);
    expect(decideVote({ ...vote, candidateId: 'c100', region: 'R0' }, big)).toBe('unknown-candidate');
    expect(decideVote({ ...vote, candidateId: 'c5', region: 'R100' }, big)).toBe('malformed');
    expect(decideVote({ ...vote, candidateId: 'c5', region: 'R1' }, big)).toBe(undefined);
  });

  it('never reads the wall clock: same answers with the clock far before and far after the window', () => {
    vi.useFakeTimers();
    try {
      for (const now of [0, OPENS - 1, CLOSES + 1, CLOSES + 10 * 365 * 86_400_000]) {
        vi.setSystemTime(now);
        expect(decideVote(vote, election)).toBe(undefined);
        expect(decideVote({ ...vote, ts: CLOSES + 1 }, election)).toBe('closed');
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('isWithinWindow is inclusive on both ends', () => {
    expect([OPENS - 1, OPENS, CLOSES, CLOSES + 1].map((ts) => isWithinWindow(election, ts))).toStrictEqual([false, true, true, false]);
  });
});
