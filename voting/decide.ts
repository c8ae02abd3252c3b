/**
 * The validation decision for one schema-valid vote against its election. Pure and deterministic:
 * the answer depends only on the vote and the election record, never on the wall clock, so a
 * replay of `votes` makes the same decisions (DESIGN section 4). Deduplication is not decided here;
 * it is the topology's `voters` store, applied only to votes this function accepts.
 *
 * Rules, checked in this order (the first that applies is the reason):
 * 1. No election record           -> `unknown-election`.
 * 2. candidateId not a candidate  -> `unknown-candidate`.
 * 3. Region rule: a vote that names a region, for an election whose `regions` list is non-empty,
 *    must name one of those regions, otherwise -> `malformed`. Such a vote does not fit the
 *    election's shape (the same class as a schema failure); accepting it would let any client
 *    create arbitrary fields in `vs:{E}:regions` and make the regional counts disagree with the
 *    totals. A vote without a region is accepted (region is optional). An election with an empty
 *    `regions` list does not restrict regions: every region is accepted as given.
 * 4. Time rule -> `closed` when `status` is `draft`, or `ts < opensAt`, or `ts > closesAt`.
 *    The window is inclusive on both ends: `ts == opensAt` and `ts == closesAt` are accepted
 *    (DESIGN: "a vote is late when its ts is past closesAt"). `status` 'open' vs 'closed' is NOT
 *    consulted: a vote with `ts` inside the window is accepted even if the election has since
 *    been marked closed, because a replay after closing must reproduce the original decision. To
 *    close an election early, the admin must move `closesAt` (to the closing instant), not only
 *    set `status`. `draft` means "not yet scheduled": no vote counts while an election is draft.
 *    (Changing an election record still changes later decisions on replay; that is inherent to
 *    deciding from the current `elections` state and is why admins should not edit live windows
 *    backwards.)
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

/** Whether `ts` falls in the election's voting window, ignoring status (inclusive on both ends). */
export function isWithinWindow(election: Pick<Election, 'opensAt' | 'closesAt'>, ts: number): boolean {
  return ts >= election.opensAt && ts <= election.closesAt;
}

/**
 * Returns why the vote must be rejected, or undefined to accept it (subject to dedup).
 * `election` is the record for `vote.electionId`, or undefined when none is known.
 */
export function decideVote(vote: Vote, election: Election | undefined): RejectReason | undefined {
  if (election === undefined || election.electionId !== vote.electionId) return 'unknown-election';
  if (!hasCandidate(election, vote.candidateId)) return 'unknown-candidate';
  if (vote.region !== undefined && election.regions.length > 0 && !hasRegion(election.regions, vote.region)) {
    return 'malformed';
  }
  if (election.status === 'draft' || !isWithinWindow(election, vote.ts)) return 'closed';
  return undefined;
}
