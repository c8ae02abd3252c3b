/**
 * The count sink's progress on a Redis Cluster, where one script call may touch one slot only.
 *
 * Single node: one call per batch covers every group and one watermarks hash per input (partition
 * -> offset); that one watermark says how far the partition is applied on every group. A Cluster
 * refuses such a call (CROSSSLOT), so there each group is written by its own call, atomically with
 * its own watermark hash (partition -> offset, in the group's slot), and no single key can say how
 * far the partition is applied everywhere. Hence a progress hash per partition, in a slot of its
 * own, written after every group call of a batch succeeded:
 *   `through`   -> the batch's highest offset of the partition (only rises);
 *   `g:<group>` -> that group's watermark once this batch was applied (only rises), for every group
 *                  with records of the partition in the batch.
 *
 * Invariant: every group with an applied record of the partition at or below `through` is listed,
 * with a value at least that record's offset (the entry is written in the same HSET as `through`).
 * Each hash lives on one node and is a consistent prefix of its own history (one atomic script per
 * write; an AOF that loses its tail loses whole scripts), so the invariant survives any node
 * losing or rolling back data.
 *
 * Where the partition is applied through, at open (`appliedThroughOf`):
 * - no progress hash: nothing was applied, or its node lost it: null, replay everything (the
 *   fences skip what the groups still hold; replaying too much is harmless, too little loses votes);
 * - a listed group whose own watermark is gone or below its entry lost state: it holds its records
 *   through its watermark only, so the partition is applied through at most that (null if gone);
 * - every other listed group holds its records through `through` (its watermark covers its entry,
 *   and it has no record between its entry and `through`, or its entry would be higher);
 * - a group not listed has no record at or below `through`: a replay from there rebuilds it whole.
 */
import { createHash } from 'node:crypto';

/** The field of the progress hash holding the partition's highest applied offset. */
export const THROUGH_FIELD = 'through';
/** The field of the progress hash holding a group's watermark. */
export function groupProgressField(group: string): string {
  return `g:${group}`;
}

/**
 * KEYS[1] the progress hash. ARGV: the `through` the writer last saw ('' when it expects none), the
 * batch's highest offset, then (field, offset) pairs. Replies {2, stored} when the stored `through`
 * is gone or below what the writer saw (the hash's node lost state: nothing is written), else {0}.
 * Every value only rises, so a replay of an older batch changes nothing.
 */
export const PROGRESS_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], '${THROUGH_FIELD}')
if ARGV[1] ~= '' and ((not stored) or tonumber(stored) < tonumber(ARGV[1])) then
  return {2, stored or ''}
end
if (not stored) or tonumber(stored) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], '${THROUGH_FIELD}', ARGV[2]) end
for i = 3, #ARGV, 2 do
  local f = redis.call('HGET', KEYS[1], ARGV[i])
  if (not f) or tonumber(f) < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return {0}
`;

export const PROGRESS_SCRIPT_SHA = createHash('sha1').update(PROGRESS_SCRIPT).digest('hex');

export function progressScriptArgs(known: number | null, through: number, groups: ReadonlyMap<string, number>): string[] {
  const args = [known === null ? '' : String(known), String(through)];
  for (const [group, watermark] of groups) args.push(groupProgressField(group), String(watermark));
  return args;
}

/** null: written; otherwise the stored `through` (null: gone) that is below what the writer saw. */
export function parseProgressReply(reply: unknown): { readonly lost: false } | { readonly lost: true; readonly stored: number | null } {
  if (!Array.isArray(reply) || reply.length === 0) throw new TypeError(`unexpected progress script reply ${JSON.stringify(reply)}`);
  const values = reply as unknown[];
  if (values[0] === 0) return { lost: false };
  return { lost: true, stored: values[1] === '' || values[1] === null ? null : Number(values[1]) };
}

/** The progress hash as read at open. */
export interface PartitionProgress {
  readonly through: number | null;
  /** group -> the watermark its entry records. */
  readonly groups: ReadonlyMap<string, number>;
}

export function parseProgressHash(hash: Record<string, string>): PartitionProgress {
  const groups = new Map<string, number>();
  let through: number | null = null;
  for (const [field, value] of Object.entries(hash)) {
    if (field === THROUGH_FIELD) through = Number(value);
    else if (field.startsWith('g:')) groups.set(field.slice(2), Number(value));
  }
  return { through, groups };
}

/** One listed group whose own watermark no longer covers its entry. */
export interface LostGroup {
  readonly group: string;
  readonly expected: number;
  readonly stored: number | null;
}

/**
 * How far the partition is applied on every group (see above), from the progress hash and each
 * listed group's own watermark of the partition (null: gone).
 */
export function appliedThroughOf(progress: PartitionProgress, watermarks: ReadonlyMap<string, number | null>): { appliedThrough: number | null; lost: LostGroup[] } {
  if (progress.through === null) return { appliedThrough: null, lost: [] };
  let appliedThrough: number | null = progress.through;
  const lost: LostGroup[] = [];
  for (const [group, expected] of progress.groups) {
    const stored = watermarks.get(group) ?? null;
    if (stored !== null && stored >= expected) continue;
    lost.push({ group, expected, stored });
    appliedThrough = stored === null || appliedThrough === null ? null : Math.min(appliedThrough, stored);
  }
  return { appliedThrough, lost };
}
