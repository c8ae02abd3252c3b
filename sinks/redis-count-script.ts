/**
 * The Lua script that applies one write (every group of a batch) atomically with its fences and the
 * per-partition watermarks, and its argument / reply encoding. What the hashes, groups and channels
 * mean is the application's (redis-count-sink.ts takes them as a layout); the script only knows
 * "H hashes per group, one fence hash per group, one watermarks hash".
 *
 * KEYS: 1 the watermarks hash, then per group i (1-based), at 1 + (H+1)(i-1) + 1..H+1: its H hashes
 *   in layout order, then its fence hash (`<partition>` -> last applied offset).
 * ARGV: the number of watermark entries W, then W triples (partition, known, raiseTo); then H, the
 *   record-count hash (1-based, 0 for none), the record-count field, the hash whose deltas the
 *   published message carries (0 for none), the message's names for the group id, the number of
 *   records and the deltas; then the number of groups N, then per group: its channel ('' for no
 *   publish), its id, the number of segments S, then per segment: partition, minOffset, maxOffset,
 *   records, H pair counts, then per hash its (field, delta) pairs.
 *   `known` is the watermark the writer last saw for the partition ('' when it expects none);
 *   `raiseTo` the batch's highest offset of that partition.
 *
 * Lost state first: when a stored watermark is absent or below `known`, Redis lost (or rolled back)
 * state this writer saw applied. Nothing is written and the script replies "lost": counting on from
 * there would silently miss the records the lost fences covered (DESIGN section 4).
 *
 * Fence rule per segment, with fence = HGET <fence hash> <partition> (absent = -1):
 *   fence <  minOffset -> apply the whole segment and set the fence to maxOffset;
 *   fence >= maxOffset -> skip it (a replay);
 *   otherwise          -> the fence falls inside the segment (a replay cut differently from the
 *                         original batches): nothing at all is written and the fences of all such
 *                         segments are returned; the client keeps only records above them and
 *                         calls again (count-deltas.ts). Fences only grow, so this converges.
 * All checks run before any write, so a call is all-or-nothing (Lua scripts are atomic, and no
 * error is possible after the first write: every delta is an integer string checked by the client).
 * Then each watermark rises to `raiseTo` (never down): every record of the batch is now applied or
 * was fenced, so the watermark never claims an effect Redis does not hold, and an AOF that loses
 * the tail of its log loses watermark and counts together.
 *
 * On a single node one call covers every group of a batch and the input's watermarks key. A Redis
 * Cluster refuses a call touching several slots (CROSSSLOT), so there the sink calls the script once
 * per group, with that group's own watermarks hash, all keys under the group's hash tag
 * (redis-count-progress.ts tells how the partition's progress is kept across those calls).
 *
 * Offsets travel as decimal strings and are stored as the same strings: Lua numbers are doubles,
 * exact for every offset up to 2^53 - 1, but Lua formats numbers with 14 significant digits, so a
 * number would be rounded on the way back out.
 *
 * Reply: `{0, appliedRecords, skippedRecords}`, `{1, group, partition, fence, group, partition,
 * fence, ...}` (group = its 1-based index in the call) or `{2, partition, storedWatermark}` (lost;
 * '' when absent).
 *
 * Message published on a group's channel when at least one of its segments was applied (one per
 * call and group); JSON, with the names the layout gives (the vote counts' names shown):
 *   {"electionId":"e1","total":1234,"votes":500,"offsets":{"3":98765},"counts":{"c1":260,"c2":240}}
 * - the group id; `total`: the record-count field after this batch (absent without one). It only
 *   grows, so a subscriber can order messages and notice a gap (total - votes > the total it last saw).
 * - the records applied by this batch; the deltas of one hash by this batch (not totals).
 * - `offsets`: the new fence of each partition the batch advanced.
 */
import { createHash } from 'node:crypto';
import type { CountSegment } from './count-deltas.js';

export const COUNT_SCRIPT = `
local nw = tonumber(ARGV[1])
local marks = {}
local i = 2
for w = 1, nw do
  local m = { p = ARGV[i], known = ARGV[i + 1], raise = ARGV[i + 2] }
  i = i + 3
  m.stored = redis.call('HGET', KEYS[1], m.p)
  if m.known ~= '' and ((not m.stored) or tonumber(m.stored) < tonumber(m.known)) then
    return {2, m.p, m.stored or ''}
  end
  marks[w] = m
end
local nh = tonumber(ARGV[i])
local totalH = tonumber(ARGV[i + 1])
local totalField = ARGV[i + 2]
local pubH = tonumber(ARGV[i + 3])
local groupName = cjson.encode(ARGV[i + 4])
local recordsName = cjson.encode(ARGV[i + 5])
local deltasName = cjson.encode(ARGV[i + 6])
i = i + 7
local nel = tonumber(ARGV[i])
i = i + 1
local groups = {}
local straddled = {}
for e = 1, nel do
  local el = { channel = ARGV[i], id = ARGV[i + 1], nseg = tonumber(ARGV[i + 2]), segs = {}, k = 1 + (nh + 1) * (e - 1) }
  i = i + 3
  for s = 1, el.nseg do
    local seg = { p = ARGV[i], lo = tonumber(ARGV[i + 1]), hi = ARGV[i + 2], records = ARGV[i + 3], n = {}, at = i + 4 + nh }
    local npairs = 0
    for h = 1, nh do
      seg.n[h] = tonumber(ARGV[i + 3 + h])
      npairs = npairs + seg.n[h]
    end
    i = seg.at + 2 * npairs
    local f = redis.call('HGET', KEYS[el.k + nh + 1], seg.p)
    local fence = -1
    if f then fence = tonumber(f) end
    if fence >= tonumber(seg.hi) then
      seg.skip = true
    elseif fence >= seg.lo then
      straddled[#straddled + 1] = e
      straddled[#straddled + 1] = seg.p
      straddled[#straddled + 1] = f
    end
    el.segs[s] = seg
  end
  groups[e] = el
end
if #straddled > 0 then
  table.insert(straddled, 1, 1)
  return straddled
end
local applied, skipped = 0, 0
for e = 1, nel do
  local el = groups[e]
  local elApplied = 0
  local deltas = {}
  local offsets = {}
  for s = 1, el.nseg do
    local seg = el.segs[s]
    if seg.skip then
      skipped = skipped + tonumber(seg.records)
    else
      local j = seg.at
      for h = 1, nh do
        for _ = 1, seg.n[h] do
          redis.call('HINCRBY', KEYS[el.k + h], ARGV[j], ARGV[j + 1])
          if h == pubH then deltas[ARGV[j]] = (deltas[ARGV[j]] or 0) + tonumber(ARGV[j + 1]) end
          j = j + 2
        end
      end
      redis.call('HSET', KEYS[el.k + nh + 1], seg.p, seg.hi)
      offsets[#offsets + 1] = '"' .. seg.p .. '":' .. seg.hi
      elApplied = elApplied + tonumber(seg.records)
    end
  end
  if elApplied > 0 then
    local msg = '{' .. groupName .. ':' .. cjson.encode(el.id)
    if totalH > 0 then
      msg = msg .. ',"total":' .. redis.call('HINCRBY', KEYS[el.k + totalH], totalField, elApplied)
    end
    if el.channel ~= '' then
      msg = msg .. ',' .. recordsName .. ':' .. elApplied .. ',"offsets":{' .. table.concat(offsets, ',') .. '}'
      if pubH > 0 then msg = msg .. ',' .. deltasName .. ':' .. cjson.encode(deltas) end
      redis.call('PUBLISH', el.channel, msg .. '}')
    end
  end
  applied = applied + elApplied
end
for w = 1, nw do
  local m = marks[w]
  if m.raise ~= '' and ((not m.stored) or tonumber(m.stored) < tonumber(m.raise)) then
    redis.call('HSET', KEYS[1], m.p, m.raise)
  end
end
return {0, applied, skipped}
`;

/** SHA1 of the script, as EVALSHA wants it (and as SCRIPT LOAD returns it). */
export const COUNT_SCRIPT_SHA = createHash('sha1').update(COUNT_SCRIPT).digest('hex');

/** One partition's watermark entry of a call: what the writer expects, and how far the batch goes. */
export interface WatermarkArg {
  readonly partition: number;
  /** The watermark the writer last saw; null when it expects none. */
  readonly known: number | null;
  /** The batch's highest offset of the partition; null to leave the watermark as it is. */
  readonly raiseTo: number | null;
}

/** What the script needs to know of the layout, by 1-based hash index (0: none). */
export interface ScriptLayoutArg {
  readonly hashes: number;
  readonly totalHash: number;
  readonly totalField: string;
  readonly publishHash: number;
  readonly groupName: string;
  readonly recordsName: string;
  readonly deltasName: string;
}

/** One group's share of a call. */
export interface GroupArg {
  /** '' for no publish. */
  readonly channel: string;
  readonly group: string;
  readonly segments: readonly CountSegment[];
}

/** ARGV for one call (see the layout above); KEYS are the caller's, in the same group order. */
export function countScriptArgs(watermarks: readonly WatermarkArg[], layout: ScriptLayoutArg, groups: readonly GroupArg[]): string[] {
  const args = [String(watermarks.length)];
  for (const w of watermarks) args.push(String(w.partition), w.known === null ? '' : String(w.known), w.raiseTo === null ? '' : String(w.raiseTo));
  args.push(String(layout.hashes), String(layout.totalHash), layout.totalField, String(layout.publishHash), layout.groupName, layout.recordsName, layout.deltasName);
  args.push(String(groups.length));
  for (const { channel, group, segments } of groups) {
    args.push(channel, group, String(segments.length));
    for (const seg of segments) {
      if (seg.fields.length !== layout.hashes) throw new TypeError(`segment has ${seg.fields.length} hashes, the layout ${layout.hashes}`);
      args.push(String(seg.partition), String(seg.minOffset), String(seg.maxOffset), String(seg.records), ...seg.fields.map((f) => String(f.size)));
      for (const fields of seg.fields) for (const [field, delta] of fields) args.push(field, String(delta));
    }
  }
  return args;
}

export type CountScriptReply =
  | { readonly kind: 'done'; readonly applied: number; readonly skipped: number }
  /** Fences that fall inside a segment: group index (0-based) -> partition -> fence. Nothing was written. */
  | { readonly kind: 'straddled'; readonly fences: ReadonlyMap<number, ReadonlyMap<number, number>> }
  /** The partition's stored watermark is below what the writer saw (null: gone). Nothing was written. */
  | { readonly kind: 'lost'; readonly partition: number; readonly stored: number | null };

/** Decodes the script's reply (integers arrive as numbers, the returned strings as strings). */
export function parseCountScriptReply(reply: unknown): CountScriptReply {
  if (!Array.isArray(reply) || reply.length === 0) throw new TypeError(`unexpected count script reply ${JSON.stringify(reply)}`);
  const values = reply as unknown[];
  if (values[0] === 0) return { kind: 'done', applied: Number(values[1]), skipped: Number(values[2]) };
  if (values[0] === 2) return { kind: 'lost', partition: Number(values[1]), stored: values[2] === '' ? null : Number(values[2]) };
  const fences = new Map<number, Map<number, number>>();
  for (let i = 1; i + 2 < values.length; i += 3) {
    const group = Number(values[i]) - 1;
    let byPartition = fences.get(group);
    if (byPartition === undefined) fences.set(group, (byPartition = new Map()));
    byPartition.set(Number(values[i + 1]), Number(values[i + 2]));
  }
  return { kind: 'straddled', fences };
}
