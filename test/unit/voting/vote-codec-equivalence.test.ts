/**
 * The direct encoders (encodeAcceptedVote, encodeRejectedVote), the literal-built toAcceptedVote /
 * toRejectedVote, toOffset and decodeVote against the implementations they replaced, kept here
 * verbatim as oracles: `votes-accepted` and `votes-rejected` bytes are compared record by record
 * with the Kafka Streams peer, so "the same object" is not enough, the bytes must be identical.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AcceptedVoteSchema,
  decodeAcceptedVote,
  decodeVote,
  encodeAcceptedVote,
  encodeJson,
  encodeRejectedVote,
  formatZodError,
  ID_PATTERN,
  MAX_CANDIDATE_ID_LENGTH,
  MAX_ELECTION_ID_LENGTH,
  MAX_REGION_LENGTH,
  MAX_VOTER_ID_LENGTH,
  REJECT_REASONS,
  toAcceptedVote,
  toOffset,
  toRejectedVote,
  UUID_PATTERN,
  validateVoteFast,
  VoteFormatError,
  VoteSchema,
  type AcceptedVote,
  type DecodeVoteResult,
  type RejectReason,
  type RejectedVote,
  type Vote,
} from '../../../voting/vote.js';

// ---------------------------------------------------------------------------------------------
// Oracles: the previous implementations.

function oldVoteFields(vote: Vote): Vote {
  const { voteId, electionId, voterId, candidateId, region, ts } = vote;
  return region === undefined ? { voteId, electionId, voterId, candidateId, ts } : { voteId, electionId, voterId, candidateId, region, ts };
}

function isNonNegativeSafeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function oldToOffset(offset: bigint | number | string): number {
  let n: number;
  if (typeof offset === 'bigint') {
    if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new VoteFormatError(`offset ${offset} is outside 0..${Number.MAX_SAFE_INTEGER}`);
    }
    n = Number(offset);
  } else if (typeof offset === 'string') {
    if (!/^(0|[1-9][0-9]*)$/.test(offset)) throw new VoteFormatError(`offset "${offset}" is not a decimal integer`);
    return oldToOffset(BigInt(offset));
  } else {
    n = offset;
  }
  if (!isNonNegativeSafeInt(n)) throw new VoteFormatError(`offset ${String(offset)} is not a safe integer >= 0`);
  return n;
}

function oldToAcceptedVote(vote: Vote, partition: number, offset: bigint | number | string): AcceptedVote {
  if (!isNonNegativeSafeInt(partition)) throw new VoteFormatError(`partition ${partition} is not an integer >= 0`);
  return { ...oldVoteFields(vote), source: { partition, offset: oldToOffset(offset) } };
}

function oldToRejectedVote(vote: Vote, reason: RejectReason): RejectedVote {
  return { ...oldVoteFields(vote), reason };
}

function oldEncodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

type ParsedObject = { ok: true; value: Record<string, unknown> } | { ok: false; kind: 'undecodable'; error: string };

function oldParseObject(bytes: Uint8Array | string | null | undefined): ParsedObject {
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

function oldDecodeVote(bytes: Uint8Array | string | null | undefined): DecodeVoteResult {
  const parsed = oldParseObject(bytes);
  if (!parsed.ok) return parsed;
  const vote = validateVoteFast(parsed.value);
  if (vote !== undefined) return { ok: true, vote };
  const result = VoteSchema.safeParse(parsed.value);
  if (result.success) return { ok: true, vote: result.data };
  return { ok: false, kind: 'malformed', error: formatZodError(result.error, parsed.value), raw: parsed.value };
}

/** What a call did: its bytes, or the error it threw (class, code and message). */
function outcome(f: () => Buffer): { bytes: string } | { error: string } {
  try {
    return { bytes: f().toString('hex') };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { error: `${e.constructor.name} ${e.code ?? ''} ${e.message}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const ALNUM = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];
const ID_CHARS = [...ALNUM, '.', '_', '@', '+', '-'];

/** Valid ids, every allowed character, lengths 1 and max included. */
function idArb(max: number): fc.Arbitrary<string> {
  const head = fc.constantFrom(...ALNUM);
  const unit = fc.constantFrom(...ID_CHARS);
  return fc
    .oneof(
      fc.tuple(head, fc.string({ unit, maxLength: max - 1 })),
      fc.tuple(head, fc.string({ unit, minLength: max - 1, maxLength: max - 1 })),
      fc.tuple(head, fc.constant('')),
    )
    .map(([h, t]) => h + t);
}

const uuidArb = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
);

const tsArb = fc.oneof(fc.constantFrom(0, 1, 9, 10, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat(), fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }));

const validVoteArb: fc.Arbitrary<Vote> = fc
  .record({
    voteId: uuidArb,
    electionId: idArb(MAX_ELECTION_ID_LENGTH),
    voterId: idArb(MAX_VOTER_ID_LENGTH),
    candidateId: idArb(MAX_CANDIDATE_ID_LENGTH),
    region: fc.option(idArb(MAX_REGION_LENGTH), { nil: undefined }),
    ts: tsArb,
  })
  .map(({ region, ...rest }) => (region === undefined ? rest : { ...rest, region }));

const offsetArb: fc.Arbitrary<bigint | number | string> = fc
  .oneof(fc.constantFrom(0, 1, 9, 10, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat())
  .chain((n) => fc.constantFrom<bigint | number | string>(n, BigInt(n), String(n)));

const partitionArb = fc.oneof(fc.constantFrom(0, 1, 9, 10, Number.MAX_SAFE_INTEGER), fc.nat(1023), fc.maxSafeNat());

/** Field values a Vote built elsewhere, never validated, might carry. */
const anyFieldArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u0080', '\ud800', '\udc00', 'é', '😀', 'a', '/', '<') }),
  fc.constantFrom(0, -0, -1, 1.5, 1e21, 2 ** 53, Number.MAX_VALUE, NaN, Infinity, -Infinity, null, undefined, true, '', 10n),
  fc.double(),
  fc.maxSafeInteger(),
  fc.constant({ a: 1 }),
  fc.constant([1, 'x']),
);

const anyVoteArb = fc.record(
  { voteId: anyFieldArb, electionId: anyFieldArb, voterId: anyFieldArb, candidateId: anyFieldArb, region: anyFieldArb, ts: anyFieldArb },
  { requiredKeys: ['voteId', 'electionId', 'voterId', 'candidateId', 'ts'] },
) as fc.Arbitrary<unknown> as fc.Arbitrary<Vote>;

/** A valid vote with one or two fields replaced: the direct write's checks are each hit alone. */
const nearValidVoteArb = fc
  .tuple(validVoteArb, fc.array(fc.tuple(fc.constantFrom('voteId', 'electionId', 'voterId', 'candidateId', 'region', 'ts'), anyFieldArb), { minLength: 1, maxLength: 2 }))
  .map(([vote, changes]) => {
    const o: Record<string, unknown> = { ...vote };
    for (const [key, value] of changes) o[key] = value;
    return o as unknown as Vote;
  });

const anyOffsetArb = fc.oneof(
  offsetArb,
  fc.constantFrom<bigint | number | string>(-1, -1n, 1.5, 2 ** 53, 2n ** 53n, 2n ** 64n, -0, NaN, Infinity, '042', '-1', '', ' 1', '1e3', '9007199254740992'),
  fc.bigInt(),
  fc.double(),
  fc.string(),
);

const anyPartitionArb = fc.oneof(partitionArb, fc.constantFrom(-1, 1.5, 2 ** 53, NaN, -0), fc.double());

const RUNS = { numRuns: 3000 };

/** The vote as the dedup path has it: decoded from the bytes the gateway produced. */
function decoded(vote: Vote): Vote {
  const d = decodeVote(Buffer.from(JSON.stringify(vote)));
  if (!d.ok) throw new VoteFormatError(`generated vote did not decode: ${d.kind} ${d.error}`);
  return d.vote;
}

// ---------------------------------------------------------------------------------------------

describe('the arbitraries', () => {
  it('generate only schema-valid votes, offsets and partitions', () => {
    fc.assert(
      fc.property(validVoteArb, (vote) => {
        expect(VoteSchema.safeParse(vote).success).toBe(true);
        expect(UUID_PATTERN.test(vote.voteId) && ID_PATTERN.test(vote.voterId)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('encodeAcceptedVote is encodeJson(old toAcceptedVote), byte for byte', () => {
  it('on valid votes, decoded or as built, with and without region, every offset type', () => {
    fc.assert(
      fc.property(validVoteArb, partitionArb, offsetArb, (vote, partition, offset) => {
        const expected = oldEncodeJson(oldToAcceptedVote(vote, partition, offset));
        expect(encodeAcceptedVote(vote, partition, offset).equals(expected)).toBe(true);
        expect(encodeAcceptedVote(decoded(vote), partition, offset).equals(expected)).toBe(true);
        expect(encodeJson(toAcceptedVote(vote, partition, offset)).equals(expected)).toBe(true);
      }),
      RUNS,
    );
  });

  it('as the accepted sink serde uses it: on toAcceptedVote values, with their own source', () => {
    fc.assert(
      fc.property(validVoteArb, partitionArb, offsetArb, (vote, partition, offset) => {
        const accepted = toAcceptedVote(decoded(vote), partition, offset);
        expect(accepted).toStrictEqual(oldToAcceptedVote(vote, partition, offset));
        const bytes = encodeAcceptedVote(accepted, accepted.source.partition, accepted.source.offset);
        expect(bytes.toString('hex')).toBe(oldEncodeJson(oldToAcceptedVote(vote, partition, offset)).toString('hex'));
      }),
      RUNS,
    );
  });

  it('on anything else a Vote-typed caller could pass: same bytes or the same error', () => {
    fc.assert(
      fc.property(fc.oneof(anyVoteArb, nearValidVoteArb), anyPartitionArb, anyOffsetArb, (vote, partition, offset) => {
        const expected = outcome(() => oldEncodeJson(oldToAcceptedVote(vote, partition, offset)));
        expect(outcome(() => encodeAcceptedVote(vote, partition, offset))).toStrictEqual(expected);
        expect(outcome(() => encodeJson(toAcceptedVote(vote, partition, offset)))).toStrictEqual(expected);
      }),
      { numRuns: 10_000 },
    );
  });

  it('on hand-picked edges', () => {
    const base: Vote = { voteId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', electionId: 'e', voterId: 'u', candidateId: 'c', ts: 0 };
    const cases: [Vote, number, bigint | number | string][] = [
      [base, 0, 0],
      [base, 0, 0n],
      [base, 0, '0'],
      [{ ...base, ts: -0 }, 0, -0],
      [{ ...base, region: undefined }, 0, 1],
      [{ ...base, ts: Number.MAX_SAFE_INTEGER, region: 'r'.repeat(64) }, Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n],
      [{ ...base, voterId: 'a"b' }, 1, 1],
      [{ ...base, voterId: 'a\\b' }, 1, 1],
      [{ ...base, voterId: 'é' }, 1, 1],
      [{ ...base, voterId: '\ud800' }, 1, 1],
      [{ ...base, region: 'x\u007f' }, 1, 1],
      [{ ...base, ts: 1.5 }, 1, 1],
      [{ ...base, ts: -1 }, 1, 1],
      [{ ...base, ts: 2 ** 53 }, 1, 1],
      [{ ...base, ts: 1e21 }, 1, 1],
      [{ ...base, ts: NaN }, 1, 1],
      [{ ...base, extra: 'dropped' } as Vote, 1, 1],
    ];
    for (const [vote, partition, offset] of cases) {
      expect(outcome(() => encodeAcceptedVote(vote, partition, offset))).toStrictEqual(outcome(() => oldEncodeJson(oldToAcceptedVote(vote, partition, offset))));
    }
    expect(() => encodeAcceptedVote(base, -1, 0)).toThrow(new VoteFormatError('partition -1 is not an integer >= 0'));
    expect(() => encodeAcceptedVote(base, 0, 2n ** 53n)).toThrow(new VoteFormatError('offset 9007199254740992 is outside 0..9007199254740991'));
    expect(() => encodeAcceptedVote({ ...base, ts: 10n } as unknown as Vote, 0, 0)).toThrow(TypeError);
  });
});

describe('encodeRejectedVote is encodeJson(old toRejectedVote), byte for byte', () => {
  const reasonArb = fc.constantFrom(...REJECT_REASONS);

  it('on valid votes, decoded or as built, every reason', () => {
    fc.assert(
      fc.property(validVoteArb, reasonArb, (vote, reason) => {
        const expected = oldEncodeJson(oldToRejectedVote(vote, reason));
        expect(encodeRejectedVote(vote, reason).equals(expected)).toBe(true);
        const rejected = toRejectedVote(decoded(vote), reason);
        expect(rejected).toStrictEqual(oldToRejectedVote(vote, reason));
        // As the rejected sinks' serde uses it.
        expect(encodeRejectedVote(rejected, rejected.reason).equals(expected)).toBe(true);
      }),
      RUNS,
    );
  });

  it('on anything else a Vote-typed caller could pass: same bytes or the same error', () => {
    const anyReasonArb = fc.oneof(reasonArb, anyFieldArb) as fc.Arbitrary<RejectReason>;
    fc.assert(
      fc.property(fc.oneof(anyVoteArb, nearValidVoteArb), anyReasonArb, (vote, reason) => {
        const expected = outcome(() => oldEncodeJson(oldToRejectedVote(vote, reason)));
        expect(outcome(() => encodeRejectedVote(vote, reason))).toStrictEqual(expected);
        expect(outcome(() => encodeJson(toRejectedVote(vote, reason)))).toStrictEqual(expected);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('toOffset agrees with the old one', () => {
  it('on every offset type, in and out of range', () => {
    fc.assert(
      fc.property(anyOffsetArb, (offset) => {
        const run = (f: (o: bigint | number | string) => number) => {
          try {
            return { value: f(offset) };
          } catch (err) {
            return { error: `${(err as Error).constructor.name} ${(err as Error).message}` };
          }
        };
        expect(run(toOffset)).toStrictEqual(run(oldToOffset));
      }),
      { numRuns: 10_000 },
    );
    for (const odd of [undefined, null, {}, Symbol('s')]) {
      const call = (f: (o: bigint | number | string) => number) => () => f(odd as unknown as number);
      expect(call(toOffset)).toThrow(VoteFormatError);
      let oldMessage = '';
      try {
        oldToOffset(odd as unknown as number);
      } catch (err) {
        oldMessage = (err as Error).message;
      }
      expect(call(toOffset)).toThrow(oldMessage);
    }
  });
});

describe('decodeVote agrees with the old one', () => {
  const check = (input: Uint8Array | string | null | undefined) => {
    const expected = oldDecodeVote(input);
    expect(decodeVote(input)).toStrictEqual(expected);
    return expected;
  };
  const viewOf = (b: Buffer): Uint8Array => {
    const padded = Buffer.concat([Buffer.from('[['), b, Buffer.from(']]')]);
    return new Uint8Array(padded.buffer, padded.byteOffset + 2, b.length);
  };

  it('on valid votes, as Buffer, plain Uint8Array view and string', () => {
    fc.assert(
      fc.property(validVoteArb, (vote) => {
        const bytes = Buffer.from(JSON.stringify(vote));
        expect(check(bytes).ok).toBe(true);
        check(viewOf(bytes));
        check(bytes.toString());
      }),
      RUNS,
    );
  });

  it('on malformed votes, non-ASCII text and arbitrary JSON', () => {
    const mutatedArb = fc.tuple(validVoteArb, fc.constantFrom('voteId', 'electionId', 'voterId', 'candidateId', 'region', 'ts', 'source', 'reason', '__proto__', 'é'), anyFieldArb).map(([vote, key, value]) => {
      const o: Record<string, unknown> = { ...vote };
      o[key] = value;
      return o;
    });
    fc.assert(
      fc.property(fc.oneof(mutatedArb, fc.jsonValue(), fc.object()), (value) => {
        const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'undefined';
        const bytes = Buffer.from(text);
        check(bytes);
        check(viewOf(bytes));
        check(text);
      }),
      RUNS,
    );
  });

  it('on arbitrary bytes (invalid UTF-8 included) and the null cases', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(validVoteArb, fc.nat(200), fc.integer({ min: 0x80, max: 0xff })).map(([vote, at, byte]) => {
        const b = Buffer.from(JSON.stringify(vote));
        b[at % b.length] = byte;
        return new Uint8Array(b);
      }),
    );
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        check(bytes);
        check(Buffer.from(bytes));
      }),
      RUNS,
    );
    check(null);
    check(undefined);
    check(Buffer.alloc(0));
    check(Buffer.from([0x7b, 0xff, 0x7d]));
    check(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]));
  });
});

describe("validateVoteFast's voteId check is UUID_PATTERN", () => {
  const base: Vote = { voteId: '', electionId: 'e1', voterId: 'u1', candidateId: 'c1', ts: 1 };
  const units = fc.constantFrom(...'0123456789abcdefABCDEF-gGzZ \n\u0660٠é'.split(''), '\ud800', '😀');
  const mutated = fc.tuple(uuidArb, fc.nat(40), units, fc.constantFrom('replace', 'insert', 'delete')).map(([u, at, c, how]) => {
    const i = at % (u.length + 1);
    if (how === 'replace') return u.slice(0, i) + c + u.slice(i + 1);
    if (how === 'insert') return u.slice(0, i) + c + u.slice(i);
    return u.slice(0, i) + u.slice(i + 1);
  });
  const versionsAndVariants = fc
    .tuple(fc.uuid(), fc.constantFrom(...'0123456789abcdefABCDEF'), fc.constantFrom(...'0123456789abcdefABCDEF'), fc.boolean())
    .map(([u, version, variant, upper]) => {
      const s = `${u.slice(0, 14)}${version}${u.slice(15, 19)}${variant}${u.slice(20)}`;
      return upper ? s.toUpperCase() : s;
    });
  const candidates = fc.oneof(
    uuidArb,
    mutated,
    versionsAndVariants,
    fc.string({ unit: units, minLength: 34, maxLength: 38 }),
    fc.constantFrom('00000000-0000-0000-0000-000000000000'.toUpperCase(), 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-00000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff\n', ''),
  );

  it('accepts exactly what the pattern (and zod) accept', () => {
    let accepted = 0;
    fc.assert(
      fc.property(candidates, (voteId) => {
        const vote = { ...base, voteId };
        const expected = UUID_PATTERN.test(voteId);
        if (expected) accepted++;
        expect(validateVoteFast(vote) !== undefined).toBe(expected);
        expect(VoteSchema.safeParse(vote).success).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
    // Both answers must be well represented for the agreement to mean anything.
    expect(accepted).toBeGreaterThan(2_000);
    expect(accepted).toBeLessThan(18_000);
  });
});

describe('decodeAcceptedVote (fast path) agrees with AcceptedVoteSchema (zod)', () => {
  /** What zod made of the same JSON: the value with its key order, or the refusal. */
  const viaZod = (text: string): string => {
    const r = AcceptedVoteSchema.safeParse(JSON.parse(text));
    return r.success ? `ok ${JSON.stringify(r.data)}` : 'malformed';
  };
  const viaDecoder = (text: string): string => {
    const r = decodeAcceptedVote(Buffer.from(text));
    return r.ok ? `ok ${JSON.stringify(r.vote)}` : r.kind;
  };
  const acceptedArb = fc.tuple(validVoteArb, partitionArb, offsetArb).map(([vote, partition, offset]) => oldToAcceptedVote(vote, partition, offset));

  it('on valid accepted votes, whatever the order of their fields', () => {
    fc.assert(
      fc.property(acceptedArb, fc.boolean(), (accepted, reversed) => {
        const entries = Object.entries(accepted);
        const text = JSON.stringify(Object.fromEntries(reversed ? entries.reverse() : entries));
        expect(viaDecoder(text)).toBe(viaZod(text));
        expect(viaDecoder(text)).toBe(`ok ${JSON.stringify(accepted)}`);
      }),
      RUNS,
    );
  });

  it('on accepted votes with a field or the source changed, dropped or added', () => {
    const sourceArb = fc.oneof(
      anyFieldArb,
      fc.record({ partition: anyFieldArb, offset: anyFieldArb }, { requiredKeys: [] }),
      fc.record({ partition: partitionArb, offset: fc.maxSafeNat(), extra: anyFieldArb }),
    );
    const changedArb = fc
      .tuple(acceptedArb, fc.constantFrom('voteId', 'electionId', 'voterId', 'candidateId', 'region', 'ts', 'source', 'reason', 'extra'), fc.oneof(anyFieldArb, sourceArb), fc.boolean())
      .map(([accepted, key, value, drop]) => {
        const o: Record<string, unknown> = { ...accepted };
        if (drop) delete o[key];
        else o[key] = value;
        return o;
      });
    fc.assert(
      fc.property(changedArb, (o) => {
        let text: string;
        try {
          text = JSON.stringify(o);
        } catch {
          return; // a bigint field: not JSON, so no record could hold it
        }
        if (text === undefined) return;
        expect(viaDecoder(text)).toBe(viaZod(text));
      }),
      RUNS,
    );
  });
});
