/**
 * Voter receipts (DESIGN section 3, issue 12): what proves one vote is in the official result,
 * checkable offline with nothing but the deployment's public key. A receipt holds the vote's
 * fields (to recompute its hash), its chain coordinates, the inclusion proof of the vote in its
 * chain's tree, the inclusion proof of that chain's root in the election tree, the sizes of every
 * chain (the proofs' tree sizes; they must add up to the checkpoint's) and the signed checkpoint.
 * The election root commits to the chains' roots, not to their sizes or partitions (DESIGN
 * section 3): so the receipt names other chains by position and size only, and the sizes are
 * checked only through their sum and the proofs' shapes.
 *
 * A receipt file is valid only in its canonical form (serializeReceipt: two-space JSON, fixed key
 * order, final newline): then every byte of it matters, and changing any one is detected.
 */
import { z } from 'zod';
import { VotestreamError } from '../../runtime/errors.js';
import type { VotingErrorCode } from '../error-codes.js';
import { hashBytes, HashChainError, voteHash, type ChainLink } from '../hash-chain.js';
import { leafHash, rootFromInclusionProof } from './merkle.js';
import { openNote, parseCheckpoint, SignedNoteError, type NoteVerifier } from './signed-note.js';

export const RECEIPT_FORMAT = 'votestream-receipt/1';

/** The receipt does not prove its vote: the message says which check failed. */
export class ReceiptInvalidError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('RECEIPT_INVALID', message);
  }
}

const hex = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().min(1).max(200);

export const ReceiptSchema = z.strictObject({
  format: z.literal(RECEIPT_FORMAT),
  electionId: id,
  origin: z.string().min(1),
  vote: z.strictObject({
    voteId: id,
    voterId: id,
    candidateId: id,
    region: id.optional(),
    ts: z.int().nonnegative(),
    partition: z.int().min(0).max(999),
    seq: z.int().positive(),
    prevHash: hex,
    hash: hex,
  }),
  /** The vote's chain's position among the election's chains (partition order). */
  chainIndex: z.int().nonnegative(),
  /** Every chain's size in partition order: the tree sizes of the proofs; they add up to the checkpoint's. */
  chainSizes: z.array(z.int().positive()).min(1).max(1000),
  voteProof: z.array(hex),
  chainProof: z.array(hex),
  checkpoint: z.string().min(1),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

/** A receipt's vote from a chain link, its fields in the canonical order. */
export function receiptVote(v: Pick<ChainLink, 'voteId' | 'voterId' | 'candidateId' | 'region' | 'ts' | 'partition' | 'seq' | 'prevHash' | 'hash'>): Receipt['vote'] {
  return {
    voteId: v.voteId,
    voterId: v.voterId,
    candidateId: v.candidateId,
    ...(v.region === undefined ? {} : { region: v.region }),
    ts: v.ts,
    partition: v.partition,
    seq: v.seq,
    prevHash: v.prevHash,
    hash: v.hash,
  };
}

/** The canonical text of a receipt (the only form check accepts). */
export function serializeReceipt(r: Receipt): string {
  const canonical = {
    format: r.format,
    electionId: r.electionId,
    origin: r.origin,
    vote: receiptVote(r.vote),
    chainIndex: r.chainIndex,
    chainSizes: [...r.chainSizes],
    voteProof: [...r.voteProof],
    chainProof: [...r.chainProof],
    checkpoint: r.checkpoint,
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}

export interface ReceiptCheck {
  readonly electionId: string;
  readonly voteId: string;
  readonly origin: string;
  readonly treeSize: number;
  /** The election root the receipt leads to, hex. */
  readonly root: string;
}

/** The parsed receipt, if `bytes` are a receipt in canonical form. */
export function parseReceipt(bytes: Uint8Array | string): Receipt {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ReceiptInvalidError('the receipt is not UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReceiptInvalidError(`the receipt is not JSON: ${(err as Error).message}`);
  }
  const parsed = ReceiptSchema.safeParse(json);
  if (!parsed.success) throw new ReceiptInvalidError(`the receipt is malformed: ${z.prettifyError(parsed.error)}`);
  if (serializeReceipt(parsed.data) !== text) throw new ReceiptInvalidError('the receipt is not in its canonical form (it was edited or reformatted)');
  return parsed.data;
}

/**
 * Verifies a receipt offline: the checkpoint's signature by `verifier`, its origin, the vote's
 * hash from its fields, the vote's path to its chain's root, the chain root's path to the
 * checkpoint's root, and the chain sizes against the checkpoint's tree size.
 */
export function checkReceipt(bytes: Uint8Array | string, verifier: NoteVerifier): ReceiptCheck {
  const r = parseReceipt(bytes);
  const v = r.vote;
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(r.checkpoint, verifier));
  } catch (err) {
    if (err instanceof SignedNoteError) throw new ReceiptInvalidError(`checkpoint: ${err.message}`);
    throw err;
  }
  if (checkpoint.origin !== r.origin) throw new ReceiptInvalidError(`the checkpoint's origin ${checkpoint.origin} is not the receipt's ${r.origin}`);
  if (!r.origin.endsWith(`/${r.electionId}`)) throw new ReceiptInvalidError(`the origin ${r.origin} is not of election ${r.electionId}`);
  let computed: string;
  try {
    computed = voteHash({ ...v, electionId: r.electionId });
  } catch (err) {
    if (err instanceof HashChainError) throw new ReceiptInvalidError(`the vote cannot be hashed: ${err.message}`);
    throw err;
  }
  if (computed !== v.hash) throw new ReceiptInvalidError(`the vote's fields hash to ${computed}, not to its hash ${v.hash}`);
  const treeSize = r.chainSizes.reduce((n, size) => n + size, 0);
  if (treeSize !== checkpoint.treeSize) throw new ReceiptInvalidError(`the chains hold ${treeSize} votes; the checkpoint says ${checkpoint.treeSize}`);
  if (r.chainIndex >= r.chainSizes.length) throw new ReceiptInvalidError(`chain ${r.chainIndex} is not among the ${r.chainSizes.length} chains`);
  const chainSize = r.chainSizes[r.chainIndex];
  if (v.seq > chainSize) throw new ReceiptInvalidError(`seq ${v.seq} is beyond the chain's ${chainSize} votes`);
  const proof = (hashes: readonly string[]) => hashes.map((h, i) => hashBytes(h, `proof hash ${i}`));
  const chainRoot = rootFromInclusionProof(leafHash(hashBytes(v.hash, 'vote hash')), v.seq - 1, chainSize, proof(r.voteProof));
  if (chainRoot === undefined) throw new ReceiptInvalidError(`the vote proof does not fit seq ${v.seq} of a chain of ${chainSize}`);
  const root = rootFromInclusionProof(leafHash(chainRoot), r.chainIndex, r.chainSizes.length, proof(r.chainProof));
  if (root === undefined) throw new ReceiptInvalidError(`the chain proof does not fit chain ${r.chainIndex} of ${r.chainSizes.length}`);
  if (!root.equals(checkpoint.root)) throw new ReceiptInvalidError(`the proofs lead to root ${root.toString('hex')}, not to the checkpoint's ${checkpoint.root.toString('hex')}`);
  return { electionId: r.electionId, voteId: v.voteId, origin: r.origin, treeSize, root: root.toString('hex') };
}
