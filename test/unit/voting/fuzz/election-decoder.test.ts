/**
 * Fuzzes the `elections` decoder (DESIGN section 3, election version JSON): on hostile bytes it
 * never throws, its verdict is exactly ElectionSchema's (zod is the oracle), what it accepts
 * round-trips through encodeElection, and the global table's serde throws nothing but SerdeError
 * (the table skips such a record and goes on). The seed is fixed (fuzz-config.ts) and printed on failure.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerdeError } from '../../../../topology/serdes/serde.js';
import { decodeElection, encodeElection, ElectionSchema, type DecodeElectionResult, type Election } from '../../../../voting/election.js';
import { electionSerde } from '../../../../voting/topology.js';
import { formatZodError } from '../../../../voting/vote.js';
import { fuzzRuns } from './fuzz-config.js';
import { idArb, nestedText, objectText, structuralMutantArb, withByteMutations } from './vote-arbitraries.js';

const msArb = fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER - 1), fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), fc.maxSafeNat());
const nameArb = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), fc.constantFrom('\ud800', 'a\u0000b', '😀', ' '));

export const validElectionArb: fc.Arbitrary<Election> = fc
  .record({
    electionId: idArb,
    version: fc.integer({ min: 1, max: 1000 }),
    effectiveAt: msArb,
    title: nameArb,
    candidates: fc.uniqueArray(fc.record({ id: idArb, name: nameArb }), { minLength: 1, maxLength: 5, selector: (c) => c.id }),
    regions: fc.uniqueArray(idArb, { maxLength: 4 }),
    window: fc.tuple(msArb, msArb).filter(([a, b]) => a !== b),
  })
  .map(({ window: [a, b], candidates, ...rest }) => ({
    ...rest,
    candidates: candidates.map((c) => ({ ...c })),
    opensAt: Math.min(a, b),
    closesAt: Math.max(a, b),
  }));

/** Changes inside the candidate and region lists, which the generic mutations do not reach. */
const listMutantArb: fc.Arbitrary<string> = fc
  .tuple(
    validElectionArb,
    fc.constantFrom('duplicate-candidate', 'duplicate-region', 'empty-name', 'extra-candidate-field', 'proto-candidate', 'no-candidates', 'window-equal', 'bad-region', 'candidate-scalar'),
  )
  .map(([e, how]) => {
    const c = e.candidates[0];
    const candidates: unknown[] = [...e.candidates];
    let { regions, opensAt, closesAt } = e as { regions: unknown[]; opensAt: number; closesAt: number };
    if (how === 'duplicate-candidate') candidates.push({ id: c.id, name: 'again' });
    if (how === 'duplicate-region') regions = ['R', 'R'];
    if (how === 'empty-name') candidates[0] = { id: c.id, name: '' };
    if (how === 'extra-candidate-field') candidates[0] = { ...c, extra: { deep: [1, 2] } };
    if (how === 'candidate-scalar') candidates[0] = c.id;
    if (how === 'no-candidates') candidates.length = 0;
    if (how === 'window-equal') closesAt = opensAt;
    if (how === 'bad-region') regions = ['_total', 'a}b'];
    const text = JSON.stringify({ ...e, candidates, regions, opensAt, closesAt });
    return how === 'proto-candidate' ? text.replace('"candidates":[{', '"candidates":[{"__proto__":{"id":"x","name":"y"},') : text;
  });

const deepElectionArb: fc.Arbitrary<string> = fc
  .tuple(validElectionArb, fc.constantFrom(100, 10_000, 100_000), fc.constantFrom('title', 'candidates', 'regions', 'extra', '__proto__'))
  .map(([e, depth, key]) => objectText([...Object.entries(e).filter(([k]) => k !== key).map(([k, v]) => [k, JSON.stringify(v)] as const), [key, nestedText(depth, 'array')]]));

const hostileElectionBytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 2, arbitrary: validElectionArb.map((e) => encodeElection(e)) },
  { weight: 4, arbitrary: structuralMutantArb(validElectionArb).map((t) => Buffer.from(t)) },
  { weight: 3, arbitrary: listMutantArb.map((t) => Buffer.from(t)) },
  { weight: 3, arbitrary: withByteMutations(validElectionArb.map((e) => encodeElection(e))) },
);

/** What the decoder must answer, from JSON.parse and the zod schema alone. */
function oracle(input: Buffer | string): DecodeElectionResult {
  if (typeof input !== 'string' && !isUtf8(input)) return { ok: false, error: 'record value is not valid UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : input.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  const result = ElectionSchema.safeParse(value);
  return result.success ? { ok: true, election: result.data } : { ok: false, error: formatZodError(result.error, value) };
}

describe('decodeElection under fuzzing', () => {
  it('answers exactly what the schema says on hostile bytes, as bytes or text, and never throws', () => {
    fc.assert(
      fc.property(hostileElectionBytesArb, (b) => {
        const inputs: (Buffer | string)[] = isUtf8(b) ? [b, b.toString('utf8')] : [b];
        for (const input of inputs) expect(decodeElection(input)).toStrictEqual(oracle(input));
      }),
      fuzzRuns(6000),
    );
  });

  it('round-trips every version it accepts through encodeElection, with only the schema fields', () => {
    fc.assert(
      fc.property(hostileElectionBytesArb, (b) => {
        const decoded = decodeElection(b);
        if (!decoded.ok) return;
        expect(Object.keys(decoded.election).sort()).toEqual(['candidates', 'closesAt', 'effectiveAt', 'electionId', 'opensAt', 'regions', 'title', 'version']);
        // Compared as JSON: a `-0` read from the text is written as `0`, the same instant.
        const again = decodeElection(encodeElection(decoded.election));
        expect(JSON.stringify(again)).toBe(JSON.stringify(decoded));
        expect(encodeElection((again as { election: Election }).election).equals(encodeElection(decoded.election))).toBe(true);
      }),
      fuzzRuns(4000),
    );
  });

  it('never lets a deeply nested value through, and never overflows the stack', () => {
    fc.assert(
      fc.property(deepElectionArb, (text) => {
        const decoded = decodeElection(Buffer.from(text));
        const expected = oracle(text);
        expect(decoded.ok).toBe(expected.ok);
        if (decoded.ok) expect(() => encodeElection(decoded.election)).not.toThrow();
      }),
      fuzzRuns(150),
    );
  });

  it('makes the elections table serde throw nothing but SerdeError (the table skips the record)', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 20, arbitrary: hostileElectionBytesArb }, { weight: 1, arbitrary: deepElectionArb.map((t) => Buffer.from(t)) }), (b) => {
        try {
          expect(ElectionSchema.safeParse(electionSerde.deserialize('elections', b)).success).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(SerdeError);
        }
      }),
      fuzzRuns(2000),
    );
  }, 20_000);
});
