/**
 * The validation decision for one schema-valid vote against the election version in force at the
 * vote's `ts` (DESIGN section 3, judging rule). Pure and deterministic: the answer depends only on
 * the vote and that version, never on the wall clock or on which versions a process has read, so a
 * replay of `votes` makes the same decisions. Choosing the version is `versionAt` (election.ts);
 * waiting until it is known is the topology's job. Deduplication is not decided here; it is the
 * topology's `voters` store, applied only to votes this function accepts.
 *
 * Rules, checked in this order (the first that applies is the reason):
 * 1. No version in force at `ts` (no such election, or `ts` before its first version) -> `unknown-election`.
 * 2. candidateId not a candidate of that version -> `unknown-candidate`.
 * 3. Region rule: a vote that names a region, for a version whose `regions` list is non-empty, must
 *    name one of those regions, otherwise -> `malformed`. Such a vote does not fit the election's
 *    shape (the same class as a schema failure); accepting it would let any client create arbitrary
 *    fields in `vs:{E}:regions` and make the regional counts disagree with the totals. A vote
 *    without a region is accepted (region is optional). An empty `regions` list accepts any region.
 * 4. Time rule -> `closed` when `ts < opensAt` or `ts > closesAt` (inclusive window). There is no
 *    status: a draft is a version whose window does not include now, and an early close is a newer
 *    version with `closesAt` = the closing instant, which applies only to votes from then on.
 */
import type { Election } from './election.js';
import type { RejectReason, Vote } from './vote.js';

/** Above this many candidates the lookup uses a cached Set instead of a linear scan. */
const LINEAR_SCAN_LIMIT = 16;
const candidateSets = new WeakMap<readonly { id: string }[], Set<string>>();
const regionSets = new WeakMap<readonly string[], Set<string>>();

function hasCandidate(election: Election, candidateId: string): boolean {
  const candidates = election.candidates;
  if (candidates.length <= LINEAR_SCAN_LIMIT) {
    for (let i = 0; i < candidates.length; i++) if (candidates[i].id === candidateId) return true;
    return false;
  }
  // Cached per candidates array: election records are treated as immutable once decoded.
  let set = candidateSets.get(candidates);
  if (set === undefined) {
    set = new Set(candidates.map((c) => c.id));
    candidateSets.set(candidates, set);
  }
  return set.has(candidateId);
}

function hasRegion(regions: readonly string[], region: string): boolean {
  if (regions.length <= LINEAR_SCAN_LIMIT) return regions.includes(region);
  let set = regionSets.get(regions);
  if (set === undefined) {
    set = new Set(regions);
    regionSets.set(regions, set);
  }
  return set.has(region);
}

/** Whether `ts` falls in the version's voting window (inclusive on both ends). */
export function isWithinWindow(election: Pick<Election, 'opensAt' | 'closesAt'>, ts: number): boolean {
  return ts >= election.opensAt && ts <= election.closesAt;
}

/**
 * Returns why the vote must be rejected, or undefined to accept it (subject to dedup).
 * `version` is the version of `vote.electionId` in force at `vote.ts`, or undefined when none is.
 */
export function decideVote(vote: Vote, version: Election | undefined): RejectReason | undefined {
  if (version === undefined || version.electionId !== vote.electionId) return 'unknown-election';
  if (!hasCandidate(version, vote.candidateId)) return 'unknown-candidate';
  if (vote.region !== undefined && version.regions.length > 0 && !hasRegion(version.regions, vote.region)) {
    return 'malformed';
  }
  if (!isWithinWindow(version, vote.ts)) return 'closed';
  return undefined;
}
