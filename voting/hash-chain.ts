/**
 * The audit hash chains (DESIGN section 3): one chain per (election, partition) in the
 * `votestream-votes` table, and the election digest as an RFC 9162 Merkle root over the chains.
 * Pure: no I/O.
 *
 *   hash = sha256hex(prevHash|electionId|partition|seq|voteId|voterId|candidateId|region|ts)
 *
 * fields joined by `|` in exactly that order, numbers in decimal without padding, a missing region
 * as the empty string; the first vote of a chain (seq 1) has prevHash = GENESIS_HASH (64 zeros).
 * Reproduce by hand:  printf '%s' '<prevHash>|e1|3|1|<voteId>|u42|c3|SP|1763800000000' | sha256sum
 */
import { createHash } from 'node:crypto';
import { VotestreamError } from '../runtime/errors.js';
import { MerkleTree } from './audit/merkle.js';
import type { VotingErrorCode } from './error-codes.js';

export const GENESIS_HASH = '0'.repeat(64);
export const HEAD_SK = 'HEAD';

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Thrown when a value cannot be put into a hash preimage or key unambiguously. */
export class HashChainError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('HASH_CHAIN', message);
  }
}

export interface VoteHashInput {
  prevHash: string;
  electionId: string;
  partition: number;
  seq: number;
  voteId: string;
  voterId: string;
  candidateId: string;
  /** Missing (undefined) hashes as the empty string. */
  region?: string | undefined;
  ts: number;
}

function checkField(name: string, value: string): string {
  if (value.includes('|')) throw new HashChainError(`${name} must not contain "|": ${JSON.stringify(value)}`);
  return value;
}

function checkInt(name: string, value: number, min: number): string {
  if (!Number.isSafeInteger(value) || value < min) throw new HashChainError(`${name} must be a safe integer >= ${min}, got ${value}`);
  return String(value);
}

/** The exact string that is hashed (exported for audit tooling and tests). */
export function voteHashPreimage(v: VoteHashInput): string {
  if (!HASH_PATTERN.test(v.prevHash)) throw new HashChainError(`prevHash must be 64 lowercase hex digits, got ${JSON.stringify(v.prevHash)}`);
  return [
    v.prevHash,
    checkField('electionId', v.electionId),
    checkInt('partition', v.partition, 0),
    checkInt('seq', v.seq, 1),
    checkField('voteId', v.voteId),
    checkField('voterId', v.voterId),
    checkField('candidateId', v.candidateId),
    checkField('region', v.region ?? ''),
    checkInt('ts', v.ts, 0),
  ].join('|');
}

/** sha256 hex (lowercase) of the vote's preimage. Throws HashChainError on unhashable input. */
export function voteHash(v: VoteHashInput): string {
  return createHash('sha256').update(voteHashPreimage(v), 'utf8').digest('hex');
}

/** `ELECTION#<E>#P#<ppp>`: partition key of one chain (partition zero-padded to 3 digits). */
export function chainPk(electionId: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition > 999) {
    throw new HashChainError(`partition must be an integer in 0..999, got ${partition}`);
  }
  return `ELECTION#${electionId}#P#${String(partition).padStart(3, '0')}`;
}

/** `VOTE#<seq>` with seq zero-padded to 12 digits (so string order is seq order). */
export function voteSk(seq: number): string {
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999_999_999) {
    throw new HashChainError(`seq must be an integer in 1..999999999999, got ${seq}`);
  }
  return `VOTE#${String(seq).padStart(12, '0')}`;
}

/** `ELECTION#<E>`: the election's key in `votestream-elections`. */
export function electionPk(electionId: string): string {
  return `ELECTION#${electionId}`;
}

/** One vote item of a chain, with the chain coordinates it is hashed under. */
export interface ChainLink extends VoteHashInput {
  hash: string;
}

/** A chain's head item (`sk = HEAD`). */
export interface ChainHead {
  lastSeq: number;
  lastHash: string;
}

export type ChainBreakKind =
  /** The link's seq is not the next one (a gap, a repeat, or not starting at 1). */
  | 'seq'
  /** The link's prevHash is not the previous link's hash (GENESIS_HASH for seq 1). */
  | 'prevHash'
  /** The stored hash is not the hash of the link's fields (a field was changed). */
  | 'hash'
  /** The link names another election or partition than the first link. */
  | 'chain'
  /** The chain does not end where the head item says. */
  | 'head';

export type ChainVerifyResult =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | { ok: false; kind: ChainBreakKind; seq: number; expected: string; actual: string };

/**
 * Incremental verifier, for chains read page by page. `push` links in seq order; after the first
 * break it keeps returning that break.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private chain: { electionId: string; partition: number } | undefined;
  private broken: Extract<ChainVerifyResult, { ok: false }> | undefined;

  /** Checks the next link; returns the break if this (or an earlier) link broke the chain. */
  push(link: ChainLink): Extract<ChainVerifyResult, { ok: false }> | undefined {
    if (this.broken) return this.broken;
    const expected = this.chain;
    if (expected === undefined) {
      this.chain = { electionId: link.electionId, partition: link.partition };
    } else if (link.electionId !== expected.electionId || link.partition !== expected.partition) {
      return this.fail('chain', link.seq, chainPkLoose(expected.electionId, expected.partition), chainPkLoose(link.electionId, link.partition));
    }
    if (link.seq !== this.expectedSeq) return this.fail('seq', link.seq, String(this.expectedSeq), String(link.seq));
    if (link.prevHash !== this.prevHash) return this.fail('prevHash', link.seq, this.prevHash, link.prevHash);
    let computed: string;
    try {
      computed = voteHash(link);
    } catch (err) {
      return this.fail('hash', link.seq, `(unhashable: ${(err as Error).message})`, link.hash);
    }
    if (link.hash !== computed) return this.fail('hash', link.seq, computed, link.hash);
    this.prevHash = link.hash;
    this.expectedSeq++;
    return undefined;
  }

  /** The verdict so far; with `head`, also checks that the chain ends at the head. */
  finish(head?: ChainHead): ChainVerifyResult {
    if (this.broken) return this.broken;
    const lastSeq = this.expectedSeq - 1;
    if (head !== undefined) {
      if (head.lastSeq !== lastSeq) return this.fail('head', head.lastSeq, String(lastSeq), String(head.lastSeq));
      if (head.lastHash !== this.prevHash) return this.fail('head', head.lastSeq, this.prevHash, head.lastHash);
    }
    return { ok: true, count: lastSeq, lastSeq, lastHash: this.prevHash };
  }

  private fail(kind: ChainBreakKind, seq: number, expected: string, actual: string): Extract<ChainVerifyResult, { ok: false }> {
    this.broken = { ok: false, kind, seq, expected, actual };
    return this.broken;
  }
}

function chainPkLoose(electionId: string, partition: number): string {
  return `ELECTION#${electionId}#P#${String(partition).padStart(3, '0')}`;
}

/**
 * Verifies one chain given its links in seq order: seq runs 1, 2, 3, ... with no gap, each prevHash
 * is the previous hash (GENESIS_HASH first), each hash recomputes, all links share one
 * (election, partition), and, if `head` is given, the chain ends at it. Returns the first break.
 * An empty chain is ok with lastSeq 0 and lastHash GENESIS_HASH.
 */
export function verifyChain(links: Iterable<ChainLink>, head?: ChainHead): ChainVerifyResult {
  const verifier = new ChainVerifier();
  for (const link of links) {
    const broken = verifier.push(link);
    if (broken) return broken;
  }
  return verifier.finish(head);
}

/**
 * RFC 9162 Merkle Tree Hash (voting/audit/merkle.ts) over hashes given as 64 hex digits: each leaf's
 * data is the hash's 32 bytes (not its ASCII text), so a leaf is SHA-256(0x00 || bytes), a node
 * SHA-256(0x01 || left || right); no leaves: SHA-256 of nothing. Returns lowercase hex.
 * By hand, one leaf: printf '00%s' "$h" | xxd -r -p | sha256sum
 */
export function merkleRoot(leaves: readonly string[]): string {
  return MerkleTree.fromEntries(leaves.map((leaf, i) => hashBytes(leaf, `leaf ${i}`))).root().toString('hex');
}

/** The 32 bytes of a 64-lowercase-hex-digit hash; HashChainError naming `what` otherwise. */
export function hashBytes(hex: string, what: string): Buffer {
  if (!HASH_PATTERN.test(hex)) throw new HashChainError(`${what} must be 64 lowercase hex digits, got ${JSON.stringify(hex)}`);
  return Buffer.from(hex, 'hex');
}

/** A chain's contribution to the election digest: merkleRoot of its vote hashes in seq order. */
export function chainRoot(voteHashes: readonly string[]): string {
  return merkleRoot(voteHashes);
}

/**
 * The election digest (DESIGN section 3): merkleRoot over the chains' roots (chainRoot), chains in
 * ascending partition order, each partition at most once. Chains with no votes have no items and
 * are left out, so an election without votes has the root of the empty tree.
 */
export function electionRoot(chains: readonly { partition: number; root: string }[]): string {
  const sorted = [...chains].sort((a, b) => a.partition - b.partition);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].partition === sorted[i - 1].partition) throw new HashChainError(`partition ${sorted[i].partition} appears twice`);
  }
  return merkleRoot(sorted.map((c) => c.root));
}
