/**
 * The vote record (DESIGN section 3): its zod schema (the documented source of truth), a hand-written
 * fast-path validator that agrees with it, and the decoders / encoders for the `votes`,
 * `votes-accepted` and `votes-rejected` values. Pure: no I/O, no clock.
 *
 * Identifier rule. `electionId`, `voterId`, `candidateId` and `region` are restricted to
 * `ID_PATTERN`: ASCII letters and digits first, then letters, digits and `. _ @ + -`. This keeps every
 * derived name unambiguous: the hash preimage joins fields with `|`, the dedupe key and the region
 * field join with `:`, DynamoDB keys use `#`, Redis hash tags use `{}` (an id with `}` would move
 * the hash tag), and Redis count hashes reserve fields starting with `_` (`_total`, `_root`, ...),
 * which a candidate could otherwise collide with.
 *
 * Strictness. The raw vote is a strict object: unknown fields (including `source` and `reason`, which
 * only the worker adds) make it `malformed`. A vote whose bytes are not a JSON object at all is
 * undecodable and belongs in `votes-dlq`.
 */
import { scanCanonicalVote } from './canonical-vote-scan.js';
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { VotestreamError } from '../runtime/errors.js';
import type { VotingErrorCode } from './error-codes.js';

/** Why a vote was not counted; the `reason` field of a `votes-rejected` value. */
export type RejectReason = 'duplicate' | 'unknown-election' | 'unknown-candidate' | 'closed' | 'malformed';
export const REJECT_REASONS: readonly RejectReason[] = Object.freeze([
  'duplicate',
  'unknown-election',
  'unknown-candidate',
  'closed',
  'malformed',
] as const);

/** Identifiers: a letter or digit, then letters, digits and `. _ @ + -`. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const ID_MESSAGE = 'must start with a letter or digit and contain only letters, digits and . _ @ + -';

export const MAX_ELECTION_ID_LENGTH = 64;
export const MAX_VOTER_ID_LENGTH = 128;
export const MAX_CANDIDATE_ID_LENGTH = 64;
export const MAX_REGION_LENGTH = 64;

/**
 * How deeply a `votes` value may nest (the object itself is level 1). A vote is flat; a JSON object
 * nested deeper than this is undecodable (`votes-dlq`) rather than `malformed`: its rejection would
 * have to be re-encoded, and JSON.stringify recurses (100,000 levels overflow the stack), as do the
 * parsers of most consumers of `votes-rejected`.
 */
export const MAX_VOTE_JSON_DEPTH = 64;

/** zod's RFC 9562 UUID pattern (versions 1-8, plus the nil and max UUIDs); the fast path uses the same. */
export const UUID_PATTERN =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

/** A zod string schema for one identifier field. Exported so the election schema uses the same rule. */
export function idSchema(max: number) {
  return z.string().min(1, { abort: true }).max(max, { abort: true }).regex(ID_PATTERN, { error: ID_MESSAGE });
}

/** The raw vote, as the gateway produces it to `votes`. Source of truth for the fast path. */
export const VoteSchema = z.strictObject({
  voteId: z.uuid({ error: 'must be a UUID' }),
  electionId: idSchema(MAX_ELECTION_ID_LENGTH),
  voterId: idSchema(MAX_VOTER_ID_LENGTH),
  candidateId: idSchema(MAX_CANDIDATE_ID_LENGTH),
  region: idSchema(MAX_REGION_LENGTH).optional(),
  /** Milliseconds since the epoch when the gateway accepted the vote (a safe integer >= 0). */
  ts: z.int().min(0),
});
export type Vote = z.infer<typeof VoteSchema>;

/**
 * Where an accepted vote came from: its `votes` partition and offset.
 *
 * Offset representation: a JSON number. Kafka offsets are int64, but a JSON number is exact up to
 * 2^53 - 1, which one partition reaches after ~1,100 years at 250k records/s; the Redis fence (Lua
 * numbers are doubles) and DynamoDB's `N` attributes have the same practical ceiling, so a number is
 * used end to end. `toOffset()` converts the client's bigint and refuses anything above the limit.
 */
export const SourceSchema = z.strictObject({
  partition: z.int().min(0),
  offset: z.int().min(0),
});
export type VoteSource = z.infer<typeof SourceSchema>;

/** A `votes-accepted` value: the vote plus `source`. */
export const AcceptedVoteSchema = VoteSchema.extend({ source: SourceSchema });
export type AcceptedVote = Vote & { source: VoteSource };

/** A `votes-rejected` value for a vote that passed the schema. */
export type RejectedVote = Vote & { reason: RejectReason };

/** A `votes-rejected` value for a JSON object that failed the schema: the raw object plus `reason`. */
export type MalformedRejection = Record<string, unknown> & { reason: 'malformed' };

export type DecodeFailure =
  /** Not a JSON object at all (null value, bad UTF-8, bad JSON, array, scalar), or one nested deeper than MAX_VOTE_JSON_DEPTH: goes to `votes-dlq`. */
  | { ok: false; kind: 'undecodable'; error: string }
  /** A JSON object that fails the schema: goes to `votes-rejected` with reason `malformed`. */
  | { ok: false; kind: 'malformed'; error: string; raw: Record<string, unknown> };
export type DecodeVoteResult = { ok: true; vote: Vote } | DecodeFailure;
export type DecodeAcceptedVoteResult = { ok: true; vote: AcceptedVote } | DecodeFailure;

/** Error thrown by the encoders when handed a value the contract cannot represent. */
export class VoteFormatError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('VOTE_FORMAT', message);
  }
}

// ---------------------------------------------------------------------------------------------
// Fast path. It must accept exactly what VoteSchema accepts (test/unit/voting/vote.test.ts checks
// agreement on a table); on rejection the caller runs zod to get the message, so error texts always
// come from the schema. The output has the same keys as zod's output.

function isId(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= max && ID_PATTERN.test(v);
}

// UUID_PATTERN.test was the dearest check of the fast path (about twice this scan, on the dedup
// path's voteIds). test/unit/voting/vote-codec-equivalence.test.ts checks that they agree.
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

function isHexRun(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/** `UUID_PATTERN.test(s)`. */
function isUuid(s: string): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== 0x2d || s.charCodeAt(13) !== 0x2d || s.charCodeAt(18) !== 0x2d || s.charCodeAt(23) !== 0x2d) return false;
  if (!isHexRun(s, 0, 8) || !isHexRun(s, 9, 13) || !isHexRun(s, 14, 18) || !isHexRun(s, 19, 23) || !isHexRun(s, 24, 36)) return false;
  const version = s.charCodeAt(14); // [1-8]
  const variant = s.charCodeAt(19); // [89abAB]
  if (version >= 0x31 && version <= 0x38 && (variant === 0x38 || variant === 0x39 || variant === 0x61 || variant === 0x62 || variant === 0x41 || variant === 0x42)) return true;
  return s === NIL_UUID || s === MAX_UUID;
}

function isNonNegativeSafeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates `value` (typically the output of JSON.parse) against VoteSchema without zod.
 * Returns a fresh Vote, or undefined when zod would reject it.
 */
export function validateVoteFast(value: unknown): Vote | undefined {
  return validateFieldsFast(value, false);
}

/**
 * Validates `value` against AcceptedVoteSchema without zod: the count and persist stages decode
 * every accepted vote, and zod cost a quarter of the count stage's CPU.
 * Returns a fresh AcceptedVote with zod's key order, or undefined when zod would reject it.
 */
export function validateAcceptedVoteFast(value: unknown): AcceptedVote | undefined {
  return validateFieldsFast(value, true) as AcceptedVote | undefined;
}

/** `source` of an accepted vote as SourceSchema takes it (a fresh object), or undefined. */
function sourceFast(source: unknown): VoteSource | undefined {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return undefined;
  const src = source as Record<string, unknown>;
  for (const key in src) if (key !== 'partition' && key !== 'offset') return undefined;
  const { partition, offset } = src;
  if (!isNonNegativeSafeInt(partition) || !isNonNegativeSafeInt(offset)) return undefined;
  return { partition, offset };
}

/** The fields every vote has (and, `withSource`, the accepted vote's `source`), as the schema takes them. */
function validateFieldsFast(value: unknown, withSource: boolean): Vote | AcceptedVote | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  let hasRegion = false;
  let hasSource = false;
  // for...in (own and inherited enumerable keys), as zod's strict-object check does.
  for (const key in o) {
    switch (key) {
      case 'voteId':
      case 'electionId':
      case 'voterId':
      case 'candidateId':
      case 'ts':
        break;
      case 'region':
        hasRegion = true;
        break;
      case 'source':
        if (!withSource) return undefined;
        hasSource = true;
        break;
      default:
        return undefined;
    }
  }
  if (withSource !== hasSource) return undefined;
  const { voteId, electionId, voterId, candidateId, region, ts } = o;
  if (typeof voteId !== 'string' || !isUuid(voteId)) return undefined;
  if (!isId(electionId, MAX_ELECTION_ID_LENGTH)) return undefined;
  if (!isId(voterId, MAX_VOTER_ID_LENGTH)) return undefined;
  if (!isId(candidateId, MAX_CANDIDATE_ID_LENGTH)) return undefined;
  if (region !== undefined && !isId(region, MAX_REGION_LENGTH)) return undefined;
  if (!isNonNegativeSafeInt(ts)) return undefined;
  const vote: Vote = hasRegion ? { voteId, electionId, voterId, candidateId, region: region as string | undefined, ts } : { voteId, electionId, voterId, candidateId, ts };
  if (!withSource) return vote;
  const source = sourceFast(o.source);
  if (source === undefined) return undefined;
  // Last, as in zod's output.
  (vote as AcceptedVote).source = source;
  return vote;
}

// ---------------------------------------------------------------------------------------------
// Error messages.

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * `field: message; field: message` from a zod error. A missing field reads `<field>: required` when
 * `input` is given; each unknown field reads `<field>: unknown field`; nested paths join with `.`.
 */
export function formatZodError(error: z.ZodError, input?: unknown): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length === 0 ? '' : `${path}.`;
      for (const key of issue.keys) parts.push(`${prefix}${key}: unknown field`);
    } else if (issue.code === 'invalid_type' && input !== undefined && valueAt(input, issue.path) === undefined) {
      parts.push(`${path}: required`);
    } else {
      parts.push(`${path}: ${issue.message}`);
    }
  }
  return parts.join('; ');
}

type ParsedObject = { ok: true; value: Record<string, unknown> } | { ok: false; kind: 'undecodable'; error: string };

function parseObject(bytes: Uint8Array | string | null | undefined): ParsedObject {
  if (bytes === null || bytes === undefined) return { ok: false, kind: 'undecodable', error: 'record value is null' };
  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    if (!isUtf8(bytes)) return { ok: false, kind: 'undecodable', error: 'record value is not valid UTF-8' };
    // Wrapping a Buffer in a new Buffer view costs more than decoding a typical vote: only plain
    // Uint8Arrays (which have no toString('utf8')) are wrapped.
    text = (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, kind: 'undecodable', error: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { ok: false, kind: 'undecodable', error: `expected a JSON object, got ${what}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Whether `value` nests deeper than MAX_VOTE_JSON_DEPTH, found without recursion (the point is not to overflow the stack). */
function nestsTooDeep(value: Record<string, unknown>): boolean {
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (typeof child !== 'object' || child === null) continue;
      if (depth === MAX_VOTE_JSON_DEPTH) return true;
      stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The failure for a parsed object that fails `schema`: malformed, or undecodable when it nests too deeply to be written back. */
function schemaFailure(error: z.ZodError, raw: Record<string, unknown>): DecodeFailure {
  if (nestsTooDeep(raw)) return { ok: false, kind: 'undecodable', error: `JSON nested deeper than ${MAX_VOTE_JSON_DEPTH} levels` };
  return { ok: false, kind: 'malformed', error: formatZodError(error, raw), raw };
}

/**
 * Decodes a `votes` record value. Never throws.
 * - `{ ok: true, vote }`: a valid vote (a fresh object with only the schema's fields).
 * - `{ ok: false, kind: 'malformed', error, raw }`: a JSON object failing the schema; send
 *   `malformedRejection(raw)` to `votes-rejected`.
 * - `{ ok: false, kind: 'undecodable', error }`: send the original bytes to `votes-dlq` with `error`.
 */
export function decodeVote(bytes: Uint8Array | string | null | undefined): DecodeVoteResult {
  if (bytes instanceof Buffer) {
    const scanned = scanCanonicalVote(bytes, false);
    const vote = scanned === undefined ? undefined : validateVoteFast(scanned);
    if (vote !== undefined) return { ok: true, vote };
  }
  const parsed = parseObject(bytes);
  if (!parsed.ok) return parsed;
  const vote = validateVoteFast(parsed.value);
  if (vote !== undefined) return { ok: true, vote };
  const result = VoteSchema.safeParse(parsed.value);
  if (result.success) {
    // Unreachable while the fast path agrees with the schema; the schema wins if they ever disagree.
    return { ok: true, vote: result.data };
  }
  return schemaFailure(result.error, parsed.value);
}

/** Decodes a `votes-accepted` value (vote + `source`). Never throws; zod only explains what the fast path refused. */
export function decodeAcceptedVote(bytes: Uint8Array | string | null | undefined): DecodeAcceptedVoteResult {
  if (bytes instanceof Buffer) {
    const scanned = scanCanonicalVote(bytes, true);
    const vote = scanned === undefined ? undefined : validateAcceptedVoteFast(scanned);
    if (vote !== undefined) return { ok: true, vote };
  }
  const parsed = parseObject(bytes);
  if (!parsed.ok) return parsed;
  const vote = validateAcceptedVoteFast(parsed.value);
  if (vote !== undefined) return { ok: true, vote };
  const result = AcceptedVoteSchema.safeParse(parsed.value);
  if (result.success) return { ok: true, vote: result.data };
  return schemaFailure(result.error, parsed.value);
}

// ---------------------------------------------------------------------------------------------
// Output values. Field order is fixed (vote fields in schema order, then `source` / `reason`).

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Converts a Kafka offset (the client's bigint, a decimal string, or a number) to the JSON number
 * used in `source.offset`. Throws VoteFormatError if it is negative, not an integer, or above 2^53 - 1.
 */
export function toOffset(offset: bigint | number | string): number {
  // Numbers first: the topology's record metadata carries them, so this is the per-vote case.
  if (typeof offset === 'number') {
    if (!isNonNegativeSafeInt(offset)) throw new VoteFormatError(`offset ${String(offset)} is not a safe integer >= 0`);
    return offset;
  }
  if (typeof offset === 'bigint') {
    if (offset < 0n || offset > MAX_SAFE_OFFSET) {
      throw new VoteFormatError(`offset ${offset} is outside 0..${Number.MAX_SAFE_INTEGER}`);
    }
    return Number(offset);
  }
  if (typeof offset === 'string') {
    if (!/^(0|[1-9][0-9]*)$/.test(offset)) throw new VoteFormatError(`offset "${offset}" is not a decimal integer`);
    return toOffset(BigInt(offset));
  }
  // Not reachable from typed callers; the message is the one any other non-number always got.
  throw new VoteFormatError(`offset ${String(offset)} is not a safe integer >= 0`);
}

function checkPartition(partition: number): void {
  if (!isNonNegativeSafeInt(partition)) throw new VoteFormatError(`partition ${partition} is not an integer >= 0`);
}

/** The `votes-accepted` value for a vote read from `votes` at (partition, offset). */
export function toAcceptedVote(vote: Vote, partition: number, offset: bigint | number | string): AcceptedVote {
  checkPartition(partition);
  // One literal per shape: spreading a copy of the fields into a new object cost more than encoding it.
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  const source = { partition, offset: toOffset(offset) };
  return region === undefined
    ? { voteId, electionId, voterId, candidateId, ts, source }
    : { voteId, electionId, voterId, candidateId, region, ts, source };
}

/** The `votes-rejected` value for a schema-valid vote. */
export function toRejectedVote(vote: Vote, reason: RejectReason): RejectedVote {
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  return region === undefined
    ? { voteId, electionId, voterId, candidateId, ts, reason }
    : { voteId, electionId, voterId, candidateId, region, ts, reason };
}

/**
 * The `votes-rejected` value for a JSON object that failed the schema: the raw object as parsed,
 * with `reason: 'malformed'` appended (a `reason` the raw object carried is overwritten, so the
 * consumer can always trust it). Property names such as `__proto__` stay plain data properties.
 */
export function malformedRejection(raw: Record<string, unknown>): MalformedRejection {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (key === 'reason') continue;
    Object.defineProperty(out, key, { value: raw[key], enumerable: true, writable: true, configurable: true });
  }
  out.reason = 'malformed';
  return out as MalformedRejection;
}

/** Encodes any of the vote values as UTF-8 JSON bytes. */
export function encodeJson(value: Vote | AcceptedVote | RejectedVote | MalformedRejection): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Direct encoders for the dedup path. Building the value object, JSON.stringify and the UTF-8
// encoding were most of the CPU an output vote cost; these write the same bytes straight into the
// Buffer. They take any Vote, validated or not, and check what makes the direct write exact rather
// than trusting where the vote came from (a Vote is a mutable object: having passed the schema once
// proves nothing about it now):
// - JSON.stringify writes a string verbatim between quotes unless it holds `"`, `\`, a control
//   character or a lone surrogate. Requiring printable ASCII is stricter and makes one char one
//   byte, so the UTF-8 bytes are the char codes. Every id that passed ID_PATTERN or UUID_PATTERN,
//   and every RejectReason, qualifies;
// - a safe integer >= 0 is written by JSON.stringify as its decimal digits (`-0` as `0`);
// - a region that is undefined is left out by both.
// Anything else (a non-string id, a character JSON escapes, a non-integer ts) takes the generic
// path, so the bytes never depend on which path ran.

function digitCount(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Writes the safe integer `n >= 0` at `o`; returns the offset after it. */
function putUint(out: Buffer, o: number, n: number): number {
  const end = o + digitCount(n);
  let i = end;
  do {
    // Exact below 2^53: n / 10 = q + r / 10 rounds by at most 2^-4, less than the 0.1 that
    // separates q + 0.9 from q + 1, and q + 0 is exact, so the floor is q.
    const q = Math.floor(n / 10);
    out[--i] = 48 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}

/** Writes a constant of the template (ASCII); returns the offset after it. */
function putAscii(out: Buffer, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
  return o;
}

/** Writes `s` if it is printable ASCII without `"` and `\` (see above); returns the offset after it, or -1. */
function putVerbatim(out: Buffer, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    out[o++] = c;
  }
  return o;
}

const HEAD = ['{"voteId":"', '","electionId":"', '","voterId":"', '","candidateId":"', '","ts":'] as const;
const REGION_KEY = '","region":"';
const HEAD_LENGTH = HEAD.reduce((sum, part) => sum + part.length, 0);
const SOURCE_KEY = ',"source":{"partition":';
const OFFSET_KEY = ',"offset":';
const SOURCE_END = '}}';
const ACCEPTED_TAIL_LENGTH = SOURCE_KEY.length + OFFSET_KEY.length + SOURCE_END.length;
const REASON_KEY = ',"reason":"';
const REASON_END = '"}';
const REJECTED_TAIL_LENGTH = REASON_KEY.length + REASON_END.length;

/**
 * Bytes of `{"voteId":...,"ts":<ts>` if the fields' types allow the direct write, else -1 (the
 * characters are checked while writing, by putHead).
 */
function headLength(vote: Vote): number {
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  if (typeof voteId !== 'string' || typeof electionId !== 'string' || typeof voterId !== 'string' || typeof candidateId !== 'string') return -1;
  if (region !== undefined && typeof region !== 'string') return -1;
  if (!isNonNegativeSafeInt(ts)) return -1;
  const regionLength = region === undefined ? 0 : REGION_KEY.length + region.length;
  return HEAD_LENGTH + voteId.length + electionId.length + voterId.length + candidateId.length + regionLength + digitCount(ts);
}

/** Writes the head measured by headLength; returns the offset after it, or -1 if a character needs escaping. */
function putHead(out: Buffer, vote: Vote): number {
  let o = putAscii(out, 0, HEAD[0]);
  if ((o = putVerbatim(out, o, vote.voteId)) < 0) return -1;
  o = putAscii(out, o, HEAD[1]);
  if ((o = putVerbatim(out, o, vote.electionId)) < 0) return -1;
  o = putAscii(out, o, HEAD[2]);
  if ((o = putVerbatim(out, o, vote.voterId)) < 0) return -1;
  o = putAscii(out, o, HEAD[3]);
  if ((o = putVerbatim(out, o, vote.candidateId)) < 0) return -1;
  if (vote.region !== undefined) {
    o = putAscii(out, o, REGION_KEY);
    if ((o = putVerbatim(out, o, vote.region)) < 0) return -1;
  }
  o = putAscii(out, o, HEAD[4]);
  return putUint(out, o, vote.ts);
}

/**
 * `encodeJson(toAcceptedVote(vote, partition, offset))`, byte for byte and with the same errors,
 * for every input; without the intermediate object and string when the fields allow it.
 */
export function encodeAcceptedVote(vote: Vote, partition: number, offset: bigint | number | string): Buffer {
  checkPartition(partition);
  // Each field is read once, as toAcceptedVote does: the copy is what both paths write.
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  const fields: Vote = region === undefined ? { voteId, electionId, voterId, candidateId, ts } : { voteId, electionId, voterId, candidateId, region, ts };
  const n = toOffset(offset);
  const head = headLength(fields);
  if (head >= 0) {
    const out = Buffer.allocUnsafe(head + ACCEPTED_TAIL_LENGTH + digitCount(partition) + digitCount(n));
    let o = putHead(out, fields);
    if (o >= 0) {
      o = putAscii(out, o, SOURCE_KEY);
      o = putUint(out, o, partition);
      o = putAscii(out, o, OFFSET_KEY);
      o = putUint(out, o, n);
      o = putAscii(out, o, SOURCE_END);
      // allocUnsafe's memory is not zeroed: a byte left unwritten would leak other data.
      if (o === out.length) return out;
    }
  }
  return encodeJson(toAcceptedVote(fields, partition, n));
}

/** `encodeJson(toRejectedVote(vote, reason))`, byte for byte, for every input (see encodeAcceptedVote). */
export function encodeRejectedVote(vote: Vote, reason: RejectReason): Buffer {
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  const fields: Vote = region === undefined ? { voteId, electionId, voterId, candidateId, ts } : { voteId, electionId, voterId, candidateId, region, ts };
  const head = typeof reason === 'string' ? headLength(fields) : -1;
  if (head >= 0) {
    const out = Buffer.allocUnsafe(head + REJECTED_TAIL_LENGTH + reason.length);
    let o = putHead(out, fields);
    if (o >= 0) {
      o = putAscii(out, o, REASON_KEY);
      o = putVerbatim(out, o, reason);
      if (o >= 0) {
        o = putAscii(out, o, REASON_END);
        if (o === out.length) return out;
      }
    }
  }
  return encodeJson(toRejectedVote(fields, reason));
}
