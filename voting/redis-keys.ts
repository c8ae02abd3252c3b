/**
 * Redis key and field names (DESIGN section 3). Every key of election E carries the hash tag `{E}`,
 * so one election lives in one Redis Cluster slot and a Lua script may touch all of its keys.
 * Election ids follow `ID_PATTERN` (no `{`, `}` or `:`), so the tag is always exactly the id.
 *
 * Every key and channel starts with the deployment's prefix (the topic prefix, empty by default):
 * two deployments sharing one Redis must never share fences, or one would skip the other's votes.
 */

/** `vs:{E}:counts` hash: candidateId -> count, and TOTAL_FIELD -> total. */
export function countsKey(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:counts`;
}

/** `vs:{E}:regions` hash: `region:candidateId` -> count. */
export function regionsKey(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:regions`;
}

/** `vs:{E}:offsets` hash: `<partition>` -> last applied `votes-accepted` offset (the fence). */
export function offsetsKey(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:offsets`;
}

/** `vs:{E}:official` hash: the audited result (candidate -> count, `_total`, `_verifiedAt`, `_root`, `_checkpoint`). */
export function officialKey(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:official`;
}

/** `vs:{E}:updates` pub/sub channel, published after every applied batch. */
export function updatesChannel(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:updates`;
}

/**
 * `vs:{E}:watermarks` hash, Redis Cluster only: `<partition>` -> the highest `votes-accepted` offset
 * of that partition whose effects on election E the count sink applied (or skipped as already
 * applied). Moved by the count script atomically with E's counts and fences, in E's slot: the
 * cluster's stand-in for `vs:watermarks`, which one script could not touch together with several
 * elections (sinks/redis-count-progress.ts).
 */
export function electionWatermarksKey(electionId: string, prefix = ''): string {
  return `${prefix}vs:{${electionId}}:watermarks`;
}

/**
 * `vs:{partition:P}:counted` hash, Redis Cluster only: how far the count sink applied `votes-accepted`
 * partition P on every election (`through`), and each election's watermark then (`g:<E>`), written
 * after every batch (sinks/redis-count-progress.ts). One per partition, so the partitions' writes
 * spread over the cluster; the tag holds a `:`, which no election id does, so it never shares an
 * election's name.
 */
export function countProgressKey(partition: number, prefix = ''): string {
  return `${prefix}vs:{partition:${partition}}:counted`;
}

/**
 * `vs:watermarks` hash: `<partition>` -> the highest `votes-accepted` offset of that partition whose
 * effects (on every election) the count sink applied, or skipped as already applied. Moved by the
 * count script in the same atomic call as the counts, only upwards. It is how the count sink knows
 * that Redis lost state (the watermark it last saw is gone or lower) and how far to replay
 * (`SinkProgress.appliedThrough`). Not hash-tagged: the script touches it together with several
 * elections' keys, which a Redis Cluster would refuse (cross-slot); single-node Redis only (a cluster
 * keeps `vs:{E}:watermarks` and `vs:{partition:P}:counted` instead).
 */
export function watermarksKey(prefix = ''): string {
  return `${prefix}vs:watermarks`;
}

/** Field of the counts and official hashes holding the total. */
export const TOTAL_FIELD = '_total';
/** Field of the official hash: when the audit verified the result. */
export const VERIFIED_AT_FIELD = '_verifiedAt';
/** Field of the official hash: the election's Merkle root the result was verified against. */
export const ROOT_FIELD = '_root';
/** Field of the official hash: the signed checkpoint (C2SP signed note) committing to the root. */
export const CHECKPOINT_FIELD = '_checkpoint';

/** Field of the regions hash: `region:candidateId`. */
export function regionField(region: string, candidateId: string): string {
  return `${region}:${candidateId}`;
}

/** Field of the offsets hash: the partition in decimal. */
export function offsetField(partition: number): string {
  return String(partition);
}
