/**
 * The Lua script that applies one election's share of a batch atomically with its fences, and its
 * argument / reply encoding.
 *
 * KEYS (all hash-tagged `{E}`, so the script stays in one cluster slot):
 *   1 `vs:{E}:counts`   2 `vs:{E}:regions`   3 `vs:{E}:offsets`
 * ARGV:
 *   1 the `vs:{E}:updates` channel, 2 the election id, 3 the number of segments S, then per segment:
 *   partition, minOffset, maxOffset, votes, nCounts, nRegions, nCounts (candidate, delta) pairs,
 *   nRegions (`region:candidate`, delta) pairs.
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
 *
 * Offsets travel as decimal strings and are stored as the same strings: Lua numbers are doubles,
 * exact for every offset up to 2^53 - 1 (vote.ts caps offsets there), but Lua formats numbers with
 * 14 significant digits, so a number would be rounded on the way back out.
 *
 * Reply: `{0, appliedVotes, skippedVotes}` or `{1, partition, fence, partition, fence, ...}`.
 *
 * Message published on the channel when at least one segment was applied (one per call, that is one
 * per applied (election, batch)); JSON:
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
local nseg = tonumber(ARGV[3])
local segs = {}
local straddled = {}
local i = 4
for s = 1, nseg do
  local seg = { p = ARGV[i], lo = tonumber(ARGV[i + 1]), hi = ARGV[i + 2], votes = ARGV[i + 3],
                nc = tonumber(ARGV[i + 4]), nr = tonumber(ARGV[i + 5]), at = i + 6 }
  i = seg.at + 2 * (seg.nc + seg.nr)
  local f = redis.call('HGET', KEYS[3], seg.p)
  local fence = -1
  if f then fence = tonumber(f) end
  if fence >= tonumber(seg.hi) then
    seg.skip = true
  elseif fence >= seg.lo then
    straddled[#straddled + 1] = seg.p
    straddled[#straddled + 1] = f
  end
  segs[s] = seg
end
if #straddled > 0 then
  table.insert(straddled, 1, 1)
  return straddled
end
local applied, skipped = 0, 0
local counts = {}
local offsets = {}
for s = 1, nseg do
  local seg = segs[s]
  if seg.skip then
    skipped = skipped + tonumber(seg.votes)
  else
    local j = seg.at
    for _ = 1, seg.nc do
      redis.call('HINCRBY', KEYS[1], ARGV[j], ARGV[j + 1])
      counts[ARGV[j]] = (counts[ARGV[j]] or 0) + tonumber(ARGV[j + 1])
      j = j + 2
    end
    for _ = 1, seg.nr do
      redis.call('HINCRBY', KEYS[2], ARGV[j], ARGV[j + 1])
      j = j + 2
    end
    redis.call('HSET', KEYS[3], seg.p, seg.hi)
    offsets[#offsets + 1] = '"' .. seg.p .. '":' .. seg.hi
    applied = applied + tonumber(seg.votes)
  end
end
if applied > 0 then
  local total = redis.call('HINCRBY', KEYS[1], '_total', applied)
  redis.call('PUBLISH', ARGV[1], '{"electionId":"' .. ARGV[2] .. '","total":' .. total .. ',"votes":' .. applied ..
    ',"offsets":{' .. table.concat(offsets, ',') .. '},"counts":' .. cjson.encode(counts) .. '}')
end
return {0, applied, skipped}
`;

/** SHA1 of the script, as EVALSHA wants it (and as SCRIPT LOAD returns it). */
export const COUNT_SCRIPT_SHA = createHash('sha1').update(COUNT_SCRIPT).digest('hex');

/** ARGV for one call (see the layout above). */
export function countScriptArgs(channel: string, electionId: string, segments: readonly CountSegment[]): string[] {
  const args = [channel, electionId, String(segments.length)];
  for (const seg of segments) {
    args.push(String(seg.partition), String(seg.minOffset), String(seg.maxOffset), String(seg.votes), String(seg.counts.size), String(seg.regions.size));
    for (const [field, delta] of seg.counts) args.push(field, String(delta));
    for (const [field, delta] of seg.regions) args.push(field, String(delta));
  }
  return args;
}

export type CountScriptReply =
  | { readonly kind: 'done'; readonly applied: number; readonly skipped: number }
  /** Fences that fall inside a segment: partition -> fence. Nothing was written. */
  | { readonly kind: 'straddled'; readonly fences: ReadonlyMap<number, number> };

/** Decodes the script's reply (integers arrive as numbers, the returned fence strings as strings). */
export function parseCountScriptReply(reply: unknown): CountScriptReply {
  if (!Array.isArray(reply) || reply.length === 0) throw new TypeError(`unexpected count script reply ${JSON.stringify(reply)}`);
  const values = reply as unknown[];
  if (values[0] === 0) return { kind: 'done', applied: Number(values[1]), skipped: Number(values[2]) };
  const fences = new Map<number, number>();
  for (let i = 1; i + 1 < values.length; i += 2) fences.set(Number(values[i]), Number(values[i + 1]));
  return { kind: 'straddled', fences };
}
