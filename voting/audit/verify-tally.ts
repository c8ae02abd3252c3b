/**
 * Counts in the shape of the Redis hashes (DESIGN section 3): candidateId -> count with `_total`, and
 * `region:candidateId` -> count; and the field-by-field difference of two such tallies.
 */
import { regionField, TOTAL_FIELD } from '../redis-keys.js';

export interface Tally {
  /** candidateId -> count, and `_total`. */
  readonly counts: Record<string, number>;
  /** `region:candidateId` -> count. */
  readonly regions: Record<string, number>;
}

export interface CountedVote {
  readonly candidateId: string;
  readonly region?: string;
}

function bump(map: Record<string, number>, field: string): void {
  map[field] = (map[field] ?? 0) + 1;
}

export function tally(votes: Iterable<CountedVote>): Tally {
  const counts: Record<string, number> = {};
  const regions: Record<string, number> = {};
  let total = 0;
  for (const v of votes) {
    total++;
    bump(counts, v.candidateId);
    if (v.region !== undefined) bump(regions, regionField(v.region, v.candidateId));
  }
  // Redis keeps no `_total` field for an election nobody voted in yet.
  if (total > 0) counts[TOTAL_FIELD] = total;
  return { counts: sorted(counts), regions: sorted(regions) };
}

function sorted(map: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One field on which two tallies disagree; a missing field counts as 0. */
export interface TallyDifference {
  readonly hash: 'counts' | 'regions';
  readonly field: string;
  readonly expected: number;
  readonly actual: number;
}

export function diffTallies(expected: Tally, actual: Tally): TallyDifference[] {
  const out: TallyDifference[] = [];
  for (const hash of ['counts', 'regions'] as const) {
    const fields = [...new Set([...Object.keys(expected[hash]), ...Object.keys(actual[hash])])].sort();
    for (const field of fields) {
      const e = expected[hash][field] ?? 0;
      const a = actual[hash][field] ?? 0;
      if (e !== a) out.push({ hash, field, expected: e, actual: a });
    }
  }
  return out;
}
