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
  /** Not a JSON object at all (null value, bad UTF-8, bad JSON, array, scalar): goes to `votes-dlq`. */
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

function isNonNegativeSafeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates `value` (typically the output of JSON.parse) against VoteSchema without zod.
 * Returns a fresh Vote, or undefined when zod would reject it.
 */
export function validateVoteFast(value: unknown): Vote | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  let hasRegion = false;
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
      default:
        return undefined;
    }
  }
  const { voteId, electionId, voterId, candidateId, region, ts } = o;
  if (typeof voteId !== 'string' || !UUID_PATTERN.test(voteId)) return undefined;
  if (!isId(electionId, MAX_ELECTION_ID_LENGTH)) return undefined;
  if (!isId(voterId, MAX_VOTER_ID_LENGTH)) return undefined;
  if (!isId(candidateId, MAX_CANDIDATE_ID_LENGTH)) return undefined;
  if (region !== undefined && !isId(region, MAX_REGION_LENGTH)) return undefined;
  if (!isNonNegativeSafeInt(ts)) return undefined;
  if (hasRegion) return { voteId, electionId, voterId, candidateId, region: region as string | undefined, ts };
  return { voteId, electionId, voterId, candidateId, ts };
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
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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

/**
 * Decodes a `votes` record value. Never throws.
 * - `{ ok: true, vote }`: a valid vote (a fresh object with only the schema's fields).
 * - `{ ok: false, kind: 'malformed', error, raw }`: a JSON object failing the schema; send
 *   `malformedRejection(raw)` to `votes-rejected`.
 * - `{ ok: false, kind: 'undecodable', error }`: send the original bytes to `votes-dlq` with `error`.
 */
export function decodeVote(bytes: Uint8Array | string | null | undefined): DecodeVoteResult {
  const parsed = parseObject(bytes);
  if (!parsed.ok) return parsed;
  const vote = validateVoteFast(parsed.value);
  if (vote !== undefined) return { ok: true, vote };
  const result = VoteSchema.safeParse(parsed.value);
  if (result.success) {
    // Unreachable while the fast path agrees with the schema; the schema wins if they ever disagree.
    return { ok: true, vote: result.data };
  }
  return { ok: false, kind: 'malformed', error: formatZodError(result.error, parsed.value), raw: parsed.value };
}

/** Decodes a `votes-accepted` value (vote + `source`). Never throws. Uses zod only (off the hot path). */
export function decodeAcceptedVote(bytes: Uint8Array | string | null | undefined): DecodeAcceptedVoteResult {
  const parsed = parseObject(bytes);
  if (!parsed.ok) return parsed;
  const result = AcceptedVoteSchema.safeParse(parsed.value);
  if (result.success) return { ok: true, vote: result.data };
  return { ok: false, kind: 'malformed', error: formatZodError(result.error, parsed.value), raw: parsed.value };
}

// ---------------------------------------------------------------------------------------------
// Output values. Field order is fixed (vote fields in schema order, then `source` / `reason`).

/** Plain copy of the vote's fields in schema order (drops anything else the object carries). */
function voteFields(vote: Vote): Vote {
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  return region === undefined
    ? { voteId, electionId, voterId, candidateId, ts }
    : { voteId, electionId, voterId, candidateId, region, ts };
}

/**
 * Converts a Kafka offset (the client's bigint, a decimal string, or a number) to the JSON number
 * used in `source.offset`. Throws VoteFormatError if it is negative, not an integer, or above 2^53 - 1.
 */
export function toOffset(offset: bigint | number | string): number {
  let n: number;
  if (typeof offset === 'bigint') {
    if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new VoteFormatError(`offset ${offset} is outside 0..${Number.MAX_SAFE_INTEGER}`);
    }
    n = Number(offset);
  } else if (typeof offset === 'string') {
    if (!/^(0|[1-9][0-9]*)$/.test(offset)) throw new VoteFormatError(`offset "${offset}" is not a decimal integer`);
    return toOffset(BigInt(offset));
  } else {
    n = offset;
  }
  if (!isNonNegativeSafeInt(n)) throw new VoteFormatError(`offset ${String(offset)} is not a safe integer >= 0`);
  return n;
}

/** The `votes-accepted` value for a vote read from `votes` at (partition, offset). */
export function toAcceptedVote(vote: Vote, partition: number, offset: bigint | number | string): AcceptedVote {
  if (!isNonNegativeSafeInt(partition)) throw new VoteFormatError(`partition ${partition} is not an integer >= 0`);
  return { ...voteFields(vote), source: { partition, offset: toOffset(offset) } };
}

/** The `votes-rejected` value for a schema-valid vote. */
export function toRejectedVote(vote: Vote, reason: RejectReason): RejectedVote {
  return { ...voteFields(vote), reason };
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
