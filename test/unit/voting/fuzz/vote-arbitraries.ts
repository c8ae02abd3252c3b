/**
 * Generators of hostile `votes` / `votes-accepted` values for the fuzzers: valid votes, then
 * structural mutations (a field replaced, dropped, duplicated, `__proto__` and other odd keys, keys
 * reordered), then raw-text mutations (bytes flipped, inserted, cut), deep nesting, lone surrogates,
 * huge numbers and `-0`. Values are written as JSON text by hand, so duplicated keys and literals
 * JSON.stringify cannot write (`-0`, `1e400`, `1.0`) reach the decoders.
 */
import fc from 'fast-check';
import { encodeAcceptedVote, encodeJson, type AcceptedVote, type Vote } from '../../../../voting/vote.js';

const idChars = 'ABCXYZabcxyz0189._@+-';
export const idArb = fc
  .tuple(fc.constantFrom(...'Aa0z9'), fc.string({ unit: fc.constantFrom(...idChars), maxLength: 12 }))
  .map(([first, rest]) => first + rest);
export const uuidArb = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'));
export const tsArb = fc.oneof(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER), fc.maxSafeNat(), fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }));

export const validVoteArb: fc.Arbitrary<Vote> = fc.record(
  { voteId: uuidArb, electionId: idArb, voterId: idArb, candidateId: idArb, region: idArb, ts: tsArb },
  { requiredKeys: ['voteId', 'electionId', 'voterId', 'candidateId', 'ts'] },
).map((v) => ({ ...v })); // fc.record's objects have a null prototype; the decoders' have Object's.
export const validAcceptedVoteArb: fc.Arbitrary<AcceptedVote> = fc
  .tuple(validVoteArb, fc.oneof(fc.nat(1023), fc.maxSafeNat()), fc.maxSafeNat())
  .map(([vote, partition, offset]) => ({ ...vote, source: { partition, offset } }));

/** A JSON value as text: any JSON value, or a literal JSON.stringify would never write. */
const oddLiteralArb = fc.constantFrom(
  '-0',
  '0.0',
  '1.0',
  '1e3',
  '1E+3',
  '-1',
  '1e400',
  '-1e400',
  '9007199254740993',
  '9007199254740991',
  '123456789012345678901234567890',
  '5e-324',
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"a\\u0000b"',
  '"\\u0041"',
  '"e\\u0301"',
  '"😀"',
  '"\u00e9"',
  '""',
  '"  "',
  '"a|b"',
  '"a:b"',
  '"{x}"',
  'null',
  'true',
  '[]',
  '{}',
  '{"__proto__":{"polluted":true}}',
  '[[[[[[[[[[]]]]]]]]]]',
);
export const jsonTextArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: oddLiteralArb },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }).map((s) => JSON.stringify(s)) },
);

const oddKeyArb = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'source', 'reason', 'region', 'ts', 'voterId', '', ' voteId', 'VoteId', 'voteid');

type Entry = readonly [key: string, valueText: string];

/** Writes an object from its entries in order, duplicated keys included. */
export function objectText(entries: readonly Entry[], space = ''): string {
  return `{${space}${entries.map(([k, v]) => `${JSON.stringify(k)}${space}:${space}${v}`).join(`,${space}`)}${space}}`;
}

function entriesOf(value: object): Entry[] {
  return Object.entries(value).map(([k, v]) => [k, JSON.stringify(v)] as const);
}

/** One change to an object's entries. */
const entryMutationArb: fc.Arbitrary<(entries: Entry[]) => Entry[]> = fc.oneof(
  // A field's value replaced by anything.
  fc.tuple(fc.nat(), jsonTextArb).map(([i, v]) => (es: Entry[]) => (es.length === 0 ? es : es.map((e, j) => (j === i % es.length ? ([e[0], v] as const) : e)))),
  // A field dropped.
  fc.nat().map((i) => (es: Entry[]) => es.filter((_, j) => es.length === 0 || j !== i % es.length)),
  // A field repeated, with its own or another value (JSON.parse keeps the last).
  fc.tuple(fc.nat(), fc.option(jsonTextArb), fc.nat()).map(([i, v, at]) => (es: Entry[]) => {
    if (es.length === 0) return es;
    const [k, own] = es[i % es.length];
    const out = [...es];
    out.splice(at % (out.length + 1), 0, [k, v ?? own]);
    return out;
  }),
  // An odd key added somewhere.
  fc.tuple(oddKeyArb, jsonTextArb, fc.nat()).map(([k, v, at]) => (es: Entry[]) => {
    const out = [...es];
    out.splice(at % (out.length + 1), 0, [k, v]);
    return out;
  }),
  // Two fields swapped.
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (es: Entry[]) => {
    if (es.length === 0) return es;
    const out = [...es];
    const i = a % out.length;
    const j = b % out.length;
    [out[i], out[j]] = [out[j], out[i]];
    return out;
  }),
);

/** A valid vote (or accepted vote) with a few structural changes, as JSON text. */
export function structuralMutantArb(base: fc.Arbitrary<object>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(entryMutationArb, { minLength: 0, maxLength: 3 }), fc.constantFrom('', '', '', ' ', '\n\t'))
    .map(([value, mutations, space]) => objectText(mutations.reduce((es, m) => m(es), entriesOf(value)), space));
}

/** Bytes of interest to splice into a value: broken UTF-8, JSON punctuation, escapes. */
const nastyBytesArb = fc.constantFrom(
  ...[
    [0xff],
    [0xc0, 0x80],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf4, 0x90, 0x80, 0x80],
    [0x00],
    [0x22],
    [0x5c],
    [0x7b],
    [0x7d],
    [0x5b],
    [0x2c],
    [0x3a],
    [0x20],
    [0x2d],
    [0x30],
    [0x65],
    [0x2e],
  ].map((b) => Buffer.from(b)),
  Buffer.from('\\u0000'),
  Buffer.from(',"__proto__":1'),
  Buffer.from(',"voterId":"dup"'),
  Buffer.from(',"reason":"duplicate"'),
  Buffer.from(',"source":{"partition":0,"offset":0}'),
);

/** One change to raw bytes. */
const byteMutationArb: fc.Arbitrary<(b: Buffer) => Buffer> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([i, byte]) => (b: Buffer) => {
    if (b.length === 0) return b;
    const out = Buffer.from(b);
    out[i % out.length] = byte;
    return out;
  }),
  fc.tuple(fc.nat(), fc.oneof(nastyBytesArb, fc.uint8Array({ minLength: 1, maxLength: 4 }).map((u) => Buffer.from(u)))).map(
    ([i, insert]) =>
      (b: Buffer) => {
        const at = i % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]);
      },
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([i, n]) => (b: Buffer) => {
    const at = i % (b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
  }),
  fc.nat().map((i) => (b: Buffer) => b.subarray(0, i % (b.length + 1))),
);

export function withByteMutations(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(base, fc.array(byteMutationArb, { minLength: 1, maxLength: 3 })).map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));
}

/** A JSON text nested `depth` levels, innermost `inner`. */
export function nestedText(depth: number, kind: 'array' | 'object', inner = '1'): string {
  return kind === 'array' ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

/** A vote whose field (a known or an extra one) holds a value nested `depth` levels. */
export const deeplyNestedVoteArb: fc.Arbitrary<Buffer> = fc
  .tuple(validVoteArb, fc.constantFrom(62, 63, 64, 65, 100, 1_000, 10_000, 100_000), fc.constantFrom('array' as const, 'object' as const), fc.constantFrom('voteId', 'ts', 'extra', '__proto__'))
  .map(([vote, depth, kind, key]) => {
    const entries = entriesOf(vote).filter(([k]) => k !== key);
    entries.push([key, nestedText(depth, kind)]);
    return Buffer.from(objectText(entries));
  });

/** Every kind of hostile value for a `votes` record. */
export const hostileVoteBytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 160 }).map((u) => Buffer.from(u)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 2, arbitrary: validVoteArb.map((v) => encodeJson(v)) },
  { weight: 6, arbitrary: structuralMutantArb(validVoteArb).map((t) => Buffer.from(t)) },
  { weight: 4, arbitrary: withByteMutations(validVoteArb.map((v) => encodeJson(v))) },
  { weight: 1, arbitrary: withByteMutations(structuralMutantArb(validVoteArb).map((t) => Buffer.from(t))) },
);

/** Every kind of hostile value for a `votes-accepted` record. */
export const hostileAcceptedBytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)) },
  { weight: 2, arbitrary: validAcceptedVoteArb.map((v) => encodeAcceptedVote(v, v.source.partition, v.source.offset)) },
  { weight: 1, arbitrary: validVoteArb.map((v) => encodeJson(v)) },
  { weight: 6, arbitrary: structuralMutantArb(validAcceptedVoteArb).map((t) => Buffer.from(t)) },
  { weight: 4, arbitrary: withByteMutations(validAcceptedVoteArb.map((v) => encodeAcceptedVote(v, v.source.partition, v.source.offset))) },
);
