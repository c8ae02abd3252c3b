/**
 * Fuzzes the `votes` and `votes-accepted` decoders (DESIGN section 3) with hostile bytes: whatever
 * arrives, the decoder never throws, its verdict is exactly the schema's (zod is the oracle: never
 * accept what it refuses, never refuse what it accepts), the fast paths (the canonical scan,
 * validateVoteFast, validateAcceptedVoteFast) agree with the zod path on every input, the serdes
 * throw nothing but SerdeError, and whatever is rejected `malformed` can be written to
 * `votes-rejected`. The seed is fixed (fuzz-config.ts) and printed on failure.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { SerdeError } from '../../../../topology/serdes/serde.js';
import { scanCanonicalVote } from '../../../../voting/canonical-vote-scan.js';
import { acceptedVoteSerde, incomingVoteSerde } from '../../../../voting/topology.js';
import {
  AcceptedVoteSchema,
  decodeAcceptedVote,
  decodeVote,
  encodeJson,
  formatZodError,
  malformedRejection,
  MAX_VOTE_JSON_DEPTH,
  validateAcceptedVoteFast,
  validateVoteFast,
  VoteSchema,
  type DecodeFailure,
} from '../../../../voting/vote.js';
import { fuzzRuns } from './fuzz-config.js';
import { deeplyNestedVoteArb, hostileAcceptedBytesArb, hostileVoteBytesArb, nestedText, validVoteArb } from './vote-arbitraries.js';

/** The oracle classifies; the undecodable messages are vote.ts's own (vote.test.ts checks them). */
type Verdict = { ok: true; value: unknown } | { ok: false; kind: 'undecodable' } | Extract<DecodeFailure, { kind: 'malformed' }>;
const UNDECODABLE = { ok: false, kind: 'undecodable' } as const;

/** Nesting depth of a parsed JSON value (a scalar is 0, `{}` is 1), without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** What DESIGN section 3 says a decoder must answer, from JSON.parse and the zod schema alone. */
function oracle(input: Uint8Array | string | null, schema: z.ZodType): Verdict {
  if (input === null || (typeof input !== 'string' && !isUtf8(input))) return UNDECODABLE;
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch {
    return UNDECODABLE;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return UNDECODABLE;
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  if (depthOf(value) > MAX_VOTE_JSON_DEPTH) return UNDECODABLE;
  return { ok: false, kind: 'malformed', error: formatZodError(result.error, value), raw: value as Record<string, unknown> };
}

/** The decoder's answer must be the oracle's: same verdict, same fields in the same order, same message. */
function expectSameVerdict(actual: { ok: true; vote: unknown } | DecodeFailure, expected: Verdict): void {
  if (expected.ok) {
    expect(actual.ok).toBe(true);
    const vote = (actual as { vote: unknown }).vote;
    expect(vote).toStrictEqual(expected.value);
    expect(Object.keys(vote as object)).toEqual(Object.keys(expected.value as object));
    return;
  }
  expect(actual).toMatchObject(expected.kind === 'malformed' ? { ok: false, kind: 'malformed', error: expected.error } : { ok: false, kind: 'undecodable', error: expect.any(String) });
  if (expected.kind === 'malformed') expect(JSON.stringify((actual as { raw: unknown }).raw)).toBe(JSON.stringify(expected.raw));
}

/** The input in each form a decoder takes: a Buffer (scan first), a plain Uint8Array, a string. */
function forms(b: Buffer): (Uint8Array | string)[] {
  const plain = new Uint8Array(b.length + 2).subarray(1, b.length + 1);
  plain.set(b);
  return isUtf8(b) ? [b, plain, b.toString('utf8')] : [b, plain];
}

/** The `votes-rejected` bytes of a malformed vote: valid UTF-8 JSON, the raw object in order, `reason` last. */
function expectWritableRejection(raw: Record<string, unknown>): void {
  const bytes = encodeJson(malformedRejection(raw));
  expect(isUtf8(bytes)).toBe(true);
  const back = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const keys = Object.keys(raw).filter((k) => k !== 'reason');
  expect(Object.keys(back)).toEqual([...keys, 'reason']);
  expect(back.reason).toBe('malformed');
  for (const k of keys) expect(JSON.stringify(back[k])).toBe(JSON.stringify(raw[k]));
}

describe('decodeVote under fuzzing', () => {
  it('answers exactly what the schema says on hostile bytes, in every input form, and never throws', () => {
    fc.assert(
      fc.property(hostileVoteBytesArb, (b) => {
        const expected = oracle(b, VoteSchema);
        for (const input of forms(b)) expectSameVerdict(decodeVote(input), typeof input === 'string' ? oracle(input, VoteSchema) : expected);
      }),
      fuzzRuns(8000),
    );
  });

  it('sends every rejection where DESIGN says: a vote, SerdeError (votes-dlq), or a malformed object that can be written to votes-rejected', () => {
    fc.assert(
      fc.property(hostileVoteBytesArb, (b) => {
        let incoming;
        try {
          incoming = incomingVoteSerde.deserialize('votes', b);
        } catch (err) {
          expect(err).toBeInstanceOf(SerdeError);
          expect(oracle(b, VoteSchema)).toMatchObject({ ok: false, kind: 'undecodable' });
          return;
        }
        if (incoming.ok) expect(VoteSchema.safeParse(incoming.vote).success).toBe(true);
        else expectWritableRejection(incoming.raw);
      }),
      fuzzRuns(4000),
    );
  });

  it('turns a deeply nested vote into a dead letter (SerdeError), never a stack overflow when its rejection is written', () => {
    fc.assert(
      fc.property(deeplyNestedVoteArb, (b) => {
        const expected = oracle(b, VoteSchema);
        const decoded = decodeVote(b);
        // Whatever the verdict, a malformed one must be writable to votes-rejected.
        if (!decoded.ok && decoded.kind === 'malformed') expectWritableRejection(decoded.raw);
        expect(decoded.ok).toBe(false);
        expect((decoded as DecodeFailure).kind).toBe(expected.ok ? 'ok' : expected.kind);
        if (decoded.ok) return;
        if (decoded.kind === 'malformed') {
          expect(incomingVoteSerde.deserialize('votes', b)).toMatchObject({ ok: false });
        } else {
          expect(decoded.error).toBe(`JSON nested deeper than ${MAX_VOTE_JSON_DEPTH} levels`);
          expect(() => incomingVoteSerde.deserialize('votes', b)).toThrow(SerdeError);
        }
      }),
      fuzzRuns(200),
    );
  });

  it('treats nesting up to the limit as malformed and beyond it as undecodable, at the edge', () => {
    const at = (depth: number) => Buffer.from(`{"voteId":"x","nested":${nestedText(depth - 1, 'array')}}`);
    expect(decodeVote(at(MAX_VOTE_JSON_DEPTH))).toMatchObject({ ok: false, kind: 'malformed' });
    expect(decodeVote(at(MAX_VOTE_JSON_DEPTH + 1))).toMatchObject({ ok: false, kind: 'undecodable' });
    expect(decodeVote(at(1_000_000))).toMatchObject({ ok: false, kind: 'undecodable' });
  });
});

describe('decodeAcceptedVote under fuzzing', () => {
  it('answers exactly what the schema says on hostile bytes, in every input form, and never throws', () => {
    fc.assert(
      fc.property(hostileAcceptedBytesArb, (b) => {
        const expected = oracle(b, AcceptedVoteSchema);
        for (const input of forms(b)) expectSameVerdict(decodeAcceptedVote(input), typeof input === 'string' ? oracle(input, AcceptedVoteSchema) : expected);
      }),
      fuzzRuns(6000),
    );
  });

  it('makes the count and persist sources throw nothing but SerdeError (votes-dlq)', () => {
    fc.assert(
      fc.property(fc.oneof(hostileAcceptedBytesArb, deeplyNestedVoteArb), (b) => {
        try {
          expect(AcceptedVoteSchema.safeParse(acceptedVoteSerde.deserialize('votes-accepted', b)).success).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(SerdeError);
        }
      }),
      fuzzRuns(3000),
    );
  });
});

describe('the fast paths agree with the zod path', () => {
  const parse = (b: Buffer): unknown => {
    try {
      return JSON.parse(b.toString('utf8'));
    } catch {
      return undefined;
    }
  };

  it('validateVoteFast and validateAcceptedVoteFast accept exactly what zod accepts, with zod output', () => {
    fc.assert(
      fc.property(fc.oneof(hostileVoteBytesArb, hostileAcceptedBytesArb), (b) => {
        const value = parse(b);
        for (const [fast, schema] of [
          [validateVoteFast, VoteSchema],
          [validateAcceptedVoteFast, AcceptedVoteSchema],
        ] as const) {
          const slow = schema.safeParse(value);
          const quick = fast(value);
          expect(quick !== undefined).toBe(slow.success);
          if (quick !== undefined) {
            expect(quick).toStrictEqual(slow.data);
            expect(JSON.stringify(quick)).toBe(JSON.stringify(slow.data));
          }
        }
      }),
      fuzzRuns(8000),
    );
  });

  it('the canonical scan reads what JSON.parse reads (same fields, same order) or declines', () => {
    fc.assert(
      fc.property(fc.oneof(hostileVoteBytesArb, hostileAcceptedBytesArb), (b) => {
        for (const withSource of [false, true]) {
          const scanned = scanCanonicalVote(b, withSource);
          if (scanned === undefined) continue;
          const value = parse(b);
          expect(scanned).toStrictEqual(value);
          expect(JSON.stringify(scanned)).toBe(JSON.stringify(value));
        }
      }),
      fuzzRuns(8000),
    );
  });

  it('the canonical scan reads every valid vote our encoders write (the fast path is really taken)', () => {
    fc.assert(
      fc.property(validVoteArb, (vote) => {
        expect(validateVoteFast(scanCanonicalVote(encodeJson(vote), false))).toStrictEqual(vote);
      }),
      fuzzRuns(2000),
    );
  });
});
