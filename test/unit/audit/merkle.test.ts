import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, MerkleTree, merkleTreeHash, rootFromInclusionProof, verifyInclusion } from '../../../voting/audit/merkle.js';

/**
 * A second, literal transcription of RFC 9162 section 2.1.1 and 2.1.3.1 (recursion, split at the
 * largest power of two smaller than n), to check the buffer-level tree against.
 */
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}
function naiveMth(d: readonly Uint8Array[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0]);
  const s = k(d.length);
  return sha(Buffer.from([1]), naiveMth(d.slice(0, s)), naiveMth(d.slice(s)));
}
function naivePath(m: number, d: readonly Uint8Array[]): Buffer[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...naivePath(m, d.slice(0, s)), naiveMth(d.slice(s))] : [...naivePath(m - s, d.slice(s)), naiveMth(d.slice(0, s))];
}

const entries = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));

describe('RFC 9162 Merkle Tree Hash', () => {
  it('known vectors: the empty tree, one leaf, and the 0x00/0x01 prefixes', () => {
    expect(merkleTreeHash([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Certificate Transparency's leaf of the empty string: sha256(0x00).
    expect(merkleTreeHash([Buffer.alloc(0)]).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const [a, b, c] = entries(3);
    expect(merkleTreeHash([a, b])).toEqual(sha(Buffer.from([1]), sha(Buffer.from([0]), a), sha(Buffer.from([0]), b)));
    expect(merkleTreeHash([a, b, c])).toEqual(sha(Buffer.from([1]), merkleTreeHash([a, b]), leafHash(c)));
  });

  it('equals the recursive definition for every size 0..70', () => {
    for (let n = 0; n <= 70; n++) expect(merkleTreeHash(entries(n)).toString('hex'), `n=${n}`).toBe(naiveMth(entries(n)).toString('hex'));
  });

  it('inclusion proofs equal RFC 9162 PATH(m, D[n]) and verify, for every leaf of sizes 1..40', () => {
    for (let n = 1; n <= 40; n++) {
      const d = entries(n);
      const tree = MerkleTree.fromEntries(d);
      const root = tree.root();
      for (let m = 0; m < n; m++) {
        const path = tree.inclusionProof(m);
        expect(path.map((p) => p.toString('hex')), `n=${n} m=${m}`).toEqual(naivePath(m, d).map((p) => p.toString('hex')));
        expect(verifyInclusion(leafHash(d[m]), m, n, path, root)).toBe(true);
      }
    }
  });

  it('refuses a proof for another index, a size of another shape, or with a hash added or removed', () => {
    const d = entries(13);
    const tree = MerkleTree.fromEntries(d);
    const root = tree.root();
    const path = tree.inclusionProof(5);
    const leaf = leafHash(d[5]);
    expect(verifyInclusion(leaf, 4, 13, path, root)).toBe(false);
    // The path binds the size only through its shape (12 and 13 share this one): receipts carry sizes apart.
    expect(verifyInclusion(leaf, 5, 12, path, root)).toBe(true);
    expect(verifyInclusion(leaf, 5, 17, path, root)).toBe(false);
    expect(verifyInclusion(leaf, 5, 6, path, root)).toBe(false);
    expect(verifyInclusion(leaf, 5, 13, [...path, root], root)).toBe(false);
    expect(verifyInclusion(leaf, 5, 13, path.slice(1), root)).toBe(false);
    expect(verifyInclusion(leaf, 13, 13, path, root)).toBe(false);
    expect(rootFromInclusionProof(leaf, -1, 13, path)).toBeUndefined();
    expect(() => tree.inclusionProof(13)).toThrow(RangeError);
  });

  it('property: every leaf proof verifies; any flipped byte of the leaf, a proof hash or the root fails', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (data, pick, bytePick, xor) => {
          const tree = MerkleTree.fromEntries(data);
          const root = tree.root();
          expect(root).toEqual(naiveMth(data));
          const m = pick % data.length;
          const path = tree.inclusionProof(m);
          const leaf = leafHash(data[m]);
          expect(verifyInclusion(leaf, m, data.length, path, root)).toBe(true);
          // Flip one byte somewhere in leaf || path || root.
          const parts = [leaf, ...path, root].map((p) => Buffer.from(p));
          const at = bytePick % (parts.length * 32);
          parts[Math.floor(at / 32)][at % 32] ^= xor;
          const [l2, ...rest] = parts;
          const r2 = rest.pop()!;
          expect(verifyInclusion(l2, m, data.length, rest, r2)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a large tree builds in flat buffers (2^18 + 3 leaves: size of a proof, and it verifies)', () => {
    const n = 262_147;
    const packed = Buffer.alloc(n * 32);
    for (let i = 0; i < n; i++) packed.writeUInt32BE(i, i * 32);
    const tree = MerkleTree.fromLeafHashes(packed);
    const path = tree.inclusionProof(n - 1);
    expect(path.length).toBeLessThanOrEqual(19);
    expect(verifyInclusion(tree.leaf(n - 1), n - 1, n, path, tree.root())).toBe(true);
  });
});
