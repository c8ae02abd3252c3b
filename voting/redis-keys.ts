/**
 * Redis key and field names (DESIGN section 3). Every key of election E carries the hash tag `{E}`,
 * so one election lives in one Redis Cluster slot and a Lua script may touch all of its keys.
 * Election ids follow `ID_PATTERN` (no `{`, `}` or `:`), so the tag is always exactly the id.
 */

/** `vs:{E}:counts` hash: candidateId -> count, and TOTAL_FIELD -> total. */
export function countsKey(electionId: string): string {
  return `vs:{${electionId}}:counts`;
}

/** `vs:{E}:regions` hash: `region:candidateId` -> count. */
export function regionsKey(electionId: string): string {
  return `vs:{${electionId}}:regions`;
}

/** `vs:{E}:offsets` hash: `<partition>` -> last applied `votes-accepted` offset (the fence). */
export function offsetsKey(electionId: string): string {
  return `vs:{${electionId}}:offsets`;
}

/** `vs:{E}:official` hash: the audited result (candidate -> count, `_total`, `_verifiedAt`, `_root`). */
export function officialKey(electionId: string): string {
  return `vs:{${electionId}}:official`;
}

/** `vs:{E}:updates` pub/sub channel, published after every applied batch. */
export function updatesChannel(electionId: string): string {
  return `vs:{${electionId}}:updates`;
}

/** Field of the counts and official hashes holding the total. */
export const TOTAL_FIELD = '_total';
/** Field of the official hash: when the audit verified the result. */
export const VERIFIED_AT_FIELD = '_verifiedAt';
/** Field of the official hash: the election's Merkle root the result was verified against. */
export const ROOT_FIELD = '_root';

/** Field of the regions hash: `region:candidateId`. */
export function regionField(region: string, candidateId: string): string {
  return `${region}:${candidateId}`;
}

/** Field of the offsets hash: the partition in decimal. */
export function offsetField(partition: number): string {
  return String(partition);
}
