import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanCanonicalVote } from '../../../voting/canonical-vote-scan.js';
import { encodeAcceptedVote, encodeJson, validateAcceptedVoteFast, validateVoteFast } from '../../../voting/vote.js';
import { generateVotes, sampleElections } from '../../../voting/vote-generator.js';

/**
 * The canonical scan must never change a decision: whatever bytes it is given, what it reads
 * equals what JSON.parse reads (same fields, same key order) or it declines. Declining is always
 * safe (the caller parses); reading something JSON.parse would read differently is not.
 */

const RUNS = { numRuns: 5000 };
const votes = generateVotes({ count: 200, elections: sampleElections(3), duplicateRatio: 0, seed: 7 }).votes;

/** JSON.parse's reading of `b`, or undefined when it is not JSON. */
function parsed(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

function agrees(b: Buffer, withSource: boolean): void {
  const scanned = scanCanonicalVote(b, withSource);
  if (scanned === undefined) return;
  // Same values and the same key order as JSON.parse.
  expect(JSON.stringify(scanned)).toBe(JSON.stringify(parsed(b)));
  expect(scanned).toEqual(parsed(b));
}

describe('scanCanonicalVote', () => {
  it('reads every vote and accepted vote our encoders write, with and without region', () => {
    expect(votes.some((v) => v.region === undefined) && votes.some((v) => v.region !== undefined)).toBe(true);
    votes.forEach((vote, i) => {
      const plain = encodeJson(vote);
      expect(scanCanonicalVote(plain, false)).toEqual(JSON.parse(plain.toString()));
      expect(validateVoteFast(scanCanonicalVote(plain, false))).toEqual(vote);
      // In schema order (region before ts) too, as the gateway writes them.
      const schemaOrder = encodeJson(validateVoteFast(vote)!);
      expect(JSON.stringify(scanCanonicalVote(schemaOrder, false))).toBe(schemaOrder.toString());
      const accepted = encodeAcceptedVote(vote, i % 12, 1_000_000 + i);
      expect(JSON.stringify(scanCanonicalVote(accepted, true))).toBe(accepted.toString());
      expect(validateAcceptedVoteFast(scanCanonicalVote(accepted, true))).toEqual(JSON.parse(accepted.toString()));
      // The other shape is declined, not misread.
      expect(scanCanonicalVote(plain, true)).toBeUndefined();
      expect(scanCanonicalVote(accepted, false)).toBeUndefined();
    });
  });

  it('reads the edges of the integers exactly, and declines what JSON writes otherwise', () => {
    const base = encodeJson(votes[0]).toString();
    const withTs = (ts: string): Buffer => Buffer.from(base.replace(/"ts":\d+/, `"ts":${ts}`));
    expect(scanCanonicalVote(withTs('0'), false)?.ts).toBe(0);
    expect(scanCanonicalVote(withTs('9007199254740991'), false)?.ts).toBe(Number.MAX_SAFE_INTEGER);
    for (const ts of ['9007199254740992', '00', '01', '1.0', '1e3', '-1', '1E3', '', '"1"', 'null', ' 1']) expect(scanCanonicalVote(withTs(ts), false), ts).toBeUndefined();
    expect(scanCanonicalVote(Buffer.from(base.replace('{', '{ ')), false)).toBeUndefined();
    expect(scanCanonicalVote(Buffer.from(`${base} `), false)).toBeUndefined();
    expect(scanCanonicalVote(Buffer.from(base.slice(0, -1)), false)).toBeUndefined();
    expect(scanCanonicalVote(Buffer.from(base.replace('"voterId":"', '"voterId":"\\u0041')), false)).toBeUndefined();
  });

  it('on mutated encodings (a byte changed, inserted or dropped): declines or reads what JSON.parse reads', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...votes), fc.nat(11), fc.maxSafeNat(), fc.boolean(), fc.nat(200), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete'))
      .map(([vote, partition, offset, withSource, at, byte, how]) => {
        const bytes = [...(withSource ? encodeAcceptedVote(vote, partition, offset) : encodeJson(vote))];
        const i = at % (bytes.length + 1);
        if (how === 'replace' && i < bytes.length) bytes[i] = byte;
        else if (how === 'insert') bytes.splice(i, 0, byte);
        else bytes.splice(i, 1);
        return { b: Buffer.from(bytes), withSource };
      });
    fc.assert(
      fc.property(mutated, ({ b, withSource }) => {
        agrees(b, withSource);
        agrees(b, !withSource);
      }),
      RUNS,
    );
  });

  it('on objects with the right keys and arbitrary values, in any order', () => {
    const value = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('"', '\\', '\n', 'é', 'a', '0', '\u007f') }), fc.maxSafeNat(), fc.double(), fc.constant(null), fc.boolean());
    const objects = fc
      .record(
        { voteId: value, electionId: value, voterId: value, candidateId: value, region: value, ts: value, source: fc.oneof(value, fc.record({ partition: value, offset: value })) },
        { requiredKeys: [] },
      )
      .chain((o) => fc.shuffledSubarray(Object.keys(o), { minLength: Object.keys(o).length }).map((keys) => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]))));
    fc.assert(
      fc.property(objects, (o) => {
        const b = Buffer.from(JSON.stringify(o));
        agrees(b, false);
        agrees(b, true);
      }),
      RUNS,
    );
  });
});
