/**
 * The Lua script that applies one write (every election of a batch) atomically with its fences and
 * the per-partition watermarks, and its argument / reply encoding.
 *
 * KEYS: 1 the watermarks hash (`vs:watermarks`), then per election i (1-based), at 1 + 3(i-1) + 1..3:
 *   `vs:{E}:counts`, `vs:{E}:regions`, `vs:{E}:offsets`.
 * ARGV: the number of watermark entries W, then W triples (partition, known, raiseTo), then the
 *   number of elections N, then per election: the `vs:{E}:updates` channel, the election id, the
 *   number of segments S, then per segment: partition, minOffset, maxOffset, votes, nCounts,
 *   nRegions, nCounts (candidate, delta) pairs, nRegions (`region:candidate`, delta) pairs.
 *   `known` is the watermark the writer last saw for the partition ('' when it expects none);
 *   `raiseTo` the batch's highest offset of that partition.
 *
 * Lost state first: when a stored watermark is absent or below `known`, Redis lost (or rolled back)
 * state this writer saw applied. Nothing is written and the script replies "lost": counting on from
 * there would silently miss the votes the lost fences covered (DESIGN section 4).
 *
 * Fence rule per segment, with fence = HGET offsets <partition> (absent = -1):
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
 * One call touches several elections' slots and the watermarks key: a Redis Cluster would refuse it
 * (cross-slot). Single-node Redis (with replicas) is what votestream supports today.
 *
 * Offsets travel as decimal strings and are stored as the same strings: Lua numbers are doubles,
 * exact for every offset up to 2^53 - 1 (vote.ts caps offsets there), but Lua formats numbers with
 * 14 significant digits, so a number would be rounded on the way back out.
 *
 * Reply: `{0, appliedVotes, skippedVotes}`, `{1, election, partition, fence, election, partition,
 * fence, ...}` (election = its 1-based index in the call) or `{2, partition, storedWatermark}` (lost;
 * '' when absent).
 *
 * Message published on an election's channel when at least one of its segments was applied (one
 * per call and election); JSON:
 *   {"electionId":"e1","total":1234,"votes":500,"offsets":{"3":98765},"counts":{"c1":260,"c2":240}}
 * - `total`: the election's `_total` after this batch. It only grows, so a subscriber can order
 *   messages and notice a gap (total - votes > the total it last saw).
 * - `votes`: votes applied by this batch; `counts`: candidate deltas of this batch (not totals).
 * - `offsets`: the new fence of each partition the batch advanced.
 * Regions are not in the message (they can be many); read `vs:{E}:regions` when needed.
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
local nel = tonumber(ARGV[i])
i = i + 1
local elections = {}
local straddled = {}
for e = 1, nel do
  local el = { channel = ARGV[i], id = ARGV[i + 1], nseg = tonumber(ARGV[i + 2]), segs = {}, k = 1 + 3 * (e - 1) }
  i = i + 3
  for s = 1, el.nseg do
    local seg = { p = ARGV[i], lo = tonumber(ARGV[i + 1]), hi = ARGV[i + 2], votes = ARGV[i + 3],
                  nc = tonumber(ARGV[i + 4]), nr = tonumber(ARGV[i + 5]), at = i + 6 }
    i = seg.at + 2 * (seg.nc + seg.nr)
    local f = redis.call('HGET', KEYS[el.k + 3], seg.p)
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
  elections[e] = el
end
if #straddled > 0 then
  table.insert(straddled, 1, 1)
  return straddled
end
local applied, skipped = 0, 0
for e = 1, nel do
  local el = elections[e]
  local elApplied = 0
  local counts = {}
  local offsets = {}
  for s = 1, el.nseg do
    local seg = el.segs[s]
    if seg.skip then
      skipped = skipped + tonumber(seg.votes)
    else
      local j = seg.at
      for _ = 1, seg.nc do
        redis.call('HINCRBY', KEYS[el.k + 1], ARGV[j], ARGV[j + 1])
        counts[ARGV[j]] = (counts[ARGV[j]] or 0) + tonumber(ARGV[j + 1])
        j = j + 2
      end
      for _ = 1, seg.nr do
        redis.call('HINCRBY', KEYS[el.k + 2], ARGV[j], ARGV[j + 1])
        j = j + 2
      end
      redis.call('HSET', KEYS[el.k + 3], seg.p, seg.hi)
      offsets[#offsets + 1] = '"' .. seg.p .. '":' .. seg.hi
      elApplied = elApplied + tonumber(seg.votes)
    end
  end
  if elApplied > 0 then
    local total = redis.call('HINCRBY', KEYS[el.k + 1], '_total', elApplied)
    redis.call('PUBLISH', el.channel, '{"electionId":"' .. el.id .. '","total":' .. total .. ',"votes":' .. elApplied ..
      ',"offsets":{' .. table.concat(offsets, ',') .. '},"counts":' .. cjson.encode(counts) .. '}')
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

/** One election's share of a call. */
export interface ElectionArg {
  readonly channel: string;
  readonly electionId: string;
  readonly segments: readonly CountSegment[];
}

/** ARGV for one call (see the layout above); KEYS are the caller's, in the same election order. */
export function countScriptArgs(watermarks: readonly WatermarkArg[], elections: readonly ElectionArg[]): string[] {
  const args = [String(watermarks.length)];
  for (const w of watermarks) args.push(String(w.partition), w.known === null ? '' : String(w.known), w.raiseTo === null ? '' : String(w.raiseTo));
  args.push(String(elections.length));
  for (const { channel, electionId, segments } of elections) {
    args.push(channel, electionId, String(segments.length));
    for (const seg of segments) {
      args.push(String(seg.partition), String(seg.minOffset), String(seg.maxOffset), String(seg.votes), String(seg.counts.size), String(seg.regions.size));
      for (const [field, delta] of seg.counts) args.push(field, String(delta));
      for (const [field, delta] of seg.regions) args.push(field, String(delta));
    }
  }
  return args;
}

export type CountScriptReply =
  | { readonly kind: 'done'; readonly applied: number; readonly skipped: number }
  /** Fences that fall inside a segment: election index (0-based) -> partition -> fence. Nothing was written. */
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
    const election = Number(values[i]) - 1;
    let byPartition = fences.get(election);
    if (byPartition === undefined) fences.set(election, (byPartition = new Map()));
    byPartition.set(Number(values[i + 1]), Number(values[i + 2]));
  }
  return { kind: 'straddled', fences };
}
