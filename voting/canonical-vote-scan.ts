/**
 * Reads a vote written in the canonical form, the one our own encoders write (`encodeJson` of a
 * Vote, `encodeAcceptedVote`): keys in schema order (`region` also right after `ts`, as votes
 * built by the generator are), no whitespace, strings without escapes, integers in plain digits. JSON.parse was the largest cost of decoding a vote (a fifth of the
 * count stage's CPU); a scan of these few fixed shapes is several times cheaper.
 *
 * It only finds the fields: validation stays with the schema's fast path. Anything else (another
 * key order, whitespace, an escape, a non-ASCII byte, a number with a fraction or an exponent)
 * returns undefined, and the caller falls back to JSON.parse, so the result never depends on
 * which path read it (test/unit/voting/canonical-vote-scan.test.ts checks both agree).
 */

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const OPEN = latin1('{"voteId":"');
const ELECTION = latin1('","electionId":"');
const VOTER = latin1('","voterId":"');
const CANDIDATE = latin1('","candidateId":"');
const REGION = latin1('","region":"');
const TS = latin1('","ts":');
const REGION_AFTER_TS = latin1(',"region":"');
const SOURCE = latin1(',"source":{"partition":');
const OFFSET = latin1(',"offset":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;

/** The fields as JSON.parse would have given them. */
export interface ScannedVote {
  voteId: string;
  electionId: string;
  voterId: string;
  candidateId: string;
  region?: string;
  ts: number;
  source?: { partition: number; offset: number };
}

/** `pos` after `lit` if `b` holds it there, else -1. */
function literal(b: Uint8Array, pos: number, lit: Uint8Array): number {
  if (pos < 0 || pos + lit.length > b.length) return -1;
  for (let i = 0; i < lit.length; i++) if (b[pos + i] !== lit[i]) return -1;
  return pos + lit.length;
}

/** Index of the quote closing a string that starts at `pos`, or -1 if it holds anything but printable ASCII without escapes. */
function stringEnd(b: Uint8Array, pos: number): number {
  if (pos < 0) return -1;
  for (let i = pos; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20 || c > 0x7e) return -1;
  }
  return -1;
}

let intEnd = -1;
let strEnd = -1;

/** The string that follows `lit` at `pos` (sets strEnd to its closing quote), or undefined; -1 in, undefined out. */
function stringAfter(b: Buffer, pos: number, lit: Uint8Array): string | undefined {
  const start = literal(b, pos, lit);
  strEnd = stringEnd(b, start);
  return strEnd < 0 ? undefined : b.toString('latin1', start, strEnd);
}

/** A non-negative integer in plain digits (no leading zero) at `pos`, safe; sets intEnd. -1 if there is none. */
function integer(b: Uint8Array, pos: number): number {
  intEnd = -1;
  if (pos < 0 || pos >= b.length) return -1;
  let i = pos;
  let n = 0;
  while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) {
    n = n * 10 + (b[i] - 0x30);
    i++;
  }
  const digits = i - pos;
  if (digits === 0 || digits > 16 || (digits > 1 && b[pos] === 0x30) || !Number.isSafeInteger(n)) return -1;
  intEnd = i;
  return n;
}

/**
 * The fields of a canonical vote (`withSource`: of a canonical accepted vote), or undefined when
 * `b` is not exactly in that form.
 */
export function scanCanonicalVote(b: Buffer, withSource: boolean): ScannedVote | undefined {
  const voteId = stringAfter(b, 0, OPEN);
  const electionId = stringAfter(b, strEnd, ELECTION);
  const voterId = stringAfter(b, strEnd, VOTER);
  const candidateId = stringAfter(b, strEnd, CANDIDATE);
  if (voteId === undefined || electionId === undefined || voterId === undefined || candidateId === undefined) return undefined;
  let e = strEnd;
  let p: number;
  let region: string | undefined;
  p = literal(b, e, REGION);
  if (p >= 0) {
    e = stringEnd(b, p);
    if (e < 0) return undefined;
    region = b.toString('latin1', p, e);
  }
  const ts = integer(b, literal(b, e, TS));
  if (ts < 0) return undefined;
  p = intEnd;
  let regionLast = false;
  if (region === undefined) {
    const r = literal(b, p, REGION_AFTER_TS);
    if (r >= 0) {
      e = stringEnd(b, r);
      if (e < 0) return undefined;
      region = b.toString('latin1', r, e);
      regionLast = true;
      p = e + 1;
    }
  }
  let source: { partition: number; offset: number } | undefined;
  if (withSource) {
    const partition = integer(b, literal(b, p, SOURCE));
    if (partition < 0) return undefined;
    const offset = integer(b, literal(b, intEnd, OFFSET));
    if (offset < 0) return undefined;
    p = intEnd;
    if (b[p] !== CLOSE) return undefined;
    p++;
    source = { partition, offset };
  }
  if (b[p] !== CLOSE || p + 1 !== b.length) return undefined;
  // The key order JSON.parse would give: the fast path's `for...in` must see the same.
  const vote: ScannedVote =
    region === undefined
      ? { voteId, electionId, voterId, candidateId, ts }
      : regionLast
        ? { voteId, electionId, voterId, candidateId, ts, region }
        : { voteId, electionId, voterId, candidateId, region, ts };
  if (source !== undefined) vote.source = source;
  return vote;
}
