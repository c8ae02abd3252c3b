/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle trees, section 2.1: the Merkle Tree Hash with
 * domain separation (leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || left || right)), inclusion
 * proofs (2.1.3.1) and their verification (2.1.3.2). Pure: no I/O.
 *
 * The tree is built bottom-up, pairing nodes left to right and lifting a level's last odd node
 * unchanged: that is exactly RFC 9162's split at the largest power of two smaller than n (the
 * left subtree is always complete), and it keeps a million-leaf tree in a few flat buffers
 * instead of millions of objects.
 */
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH({}) = SHA-256() (RFC 9162 section 2.1.1). */
export const EMPTY_TREE_HASH: Buffer = createHash('sha256').digest();

/** A Merkle tree over leaf hashes, every level kept (as one buffer each) so proofs are cheap. */
export class MerkleTree {
  /** levels[0]: the leaf hashes; each next level has ceil(n / 2) nodes; the last has one. */
  readonly #levels: Buffer[];
  readonly size: number;

  private constructor(levels: Buffer[], size: number) {
    this.#levels = levels;
    this.size = size;
  }

  /** The tree whose leaves are `entries` (each is hashed as a leaf: SHA-256(0x00 || entry)). */
  static fromEntries(entries: readonly Uint8Array[]): MerkleTree {
    const leaves = Buffer.allocUnsafe(entries.length * HASH_BYTES);
    entries.forEach((e, i) => leafHash(e).copy(leaves, i * HASH_BYTES));
    return MerkleTree.fromLeafHashes(leaves);
  }

  /** The tree over already-hashed leaves, packed 32 bytes each. */
  static fromLeafHashes(packed: Buffer): MerkleTree {
    if (packed.length % HASH_BYTES !== 0) throw new RangeError(`leaf hashes must be a multiple of ${HASH_BYTES} bytes, got ${packed.length}`);
    const size = packed.length / HASH_BYTES;
    const levels = [packed];
    let level = packed;
    let n = size;
    while (n > 1) {
      const parents = Math.ceil(n / 2);
      const next = Buffer.allocUnsafe(parents * HASH_BYTES);
      for (let i = 0; i + 1 < n; i += 2) nodeHash(node(level, i), node(level, i + 1)).copy(next, (i / 2) * HASH_BYTES);
      // The odd node is lifted, not paired with itself (Bitcoin's duplication would let [a,b,c] and [a,b,c,c] share a root).
      if (n % 2 === 1) node(level, n - 1).copy(next, (parents - 1) * HASH_BYTES);
      levels.push(next);
      level = next;
      n = parents;
    }
    return new MerkleTree(levels, size);
  }

  /** MTH(D[n]). */
  root(): Buffer {
    if (this.size === 0) return Buffer.from(EMPTY_TREE_HASH);
    return Buffer.from(node(this.#levels[this.#levels.length - 1], 0));
  }

  /** The hash of leaf `index` (SHA-256(0x00 || entry)). */
  leaf(index: number): Buffer {
    checkIndex(index, this.size);
    return Buffer.from(node(this.#levels[0], index));
  }

  /** PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the sibling hashes from the leaf's level upwards. */
  inclusionProof(index: number): Buffer[] {
    checkIndex(index, this.size);
    const path: Buffer[] = [];
    let i = index;
    for (let depth = 0; depth < this.#levels.length - 1; depth++) {
      const n = this.#levels[depth].length / HASH_BYTES;
      const sibling = i ^ 1;
      // No sibling: the node was lifted unchanged, which adds nothing to the path.
      if (sibling < n) path.push(Buffer.from(node(this.#levels[depth], sibling)));
      i >>>= 1;
    }
    return path;
  }
}

function node(level: Buffer, i: number): Buffer {
  return level.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
}

/** MTH over `entries` (each hashed as a leaf). */
export function merkleTreeHash(entries: readonly Uint8Array[]): Buffer {
  return MerkleTree.fromEntries(entries).root();
}

/**
 * RFC 9162 section 2.1.3.2 up to the comparison: the root that `path` leads to from `leaf` (a leaf
 * hash) at `index` of a tree of `size`, or undefined when the path cannot belong to such a tree
 * (wrong length for the index and size). Verification is `equals(root)` on the answer.
 */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (p.length !== HASH_BYTES || sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** True when `path` proves `leaf` (a leaf hash) at `index` of the tree of `size` with `root`. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(leaf, index, size, path);
  return computed !== undefined && computed.equals(root);
}
