/**
 * Reading an election's chains for the recount and the receipts: which chains exist, and one walk
 * over a chain that checks it (seq, prevHash, hash, head) while building its Merkle tree, so a
 * result is never computed over a log that does not verify.
 */
import { BatchGetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { VotestreamError } from '../../runtime/errors.js';
import { decodeHead, type ChainState, type Item } from '../../sinks/chain-items.js';
import type { VotingErrorCode } from '../error-codes.js';
import { chainPk, ChainVerifier, hashBytes, HEAD_SK } from '../hash-chain.js';
import { chainItems, decodeVoteItem, type StoredVote } from '../vote-chain.js';
import { MerkleTree, leafHash } from './merkle.js';

/** The vote log does not verify (or is not the one the official result was computed over); nothing is published. */
export class RecountRefusedError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('RECOUNT_REFUSED', message);
  }
}

/** Chain keys take partitions 0..999 (chainPk). */
const MAX_PARTITIONS = 1000;
const BATCH_GET_LIMIT = 100;

/**
 * The partitions of the election that have a chain (a head item), ascending: every possible head
 * key asked by BatchGetItem (ten requests), so the answer comes from DynamoDB alone, not from a
 * topic's partition count.
 */
export async function electionPartitions(dynamodb: DynamoDBClient, table: string, electionId: string): Promise<{ partition: number; votes: number }[]> {
  const found: { partition: number; votes: number }[] = [];
  for (let from = 0; from < MAX_PARTITIONS; from += BATCH_GET_LIMIT) {
    let request: Record<string, KeysAndAttributes> | undefined = {
      [table]: {
        Keys: Array.from({ length: BATCH_GET_LIMIT }, (_, i) => ({ pk: { S: chainPk(electionId, from + i) }, sk: { S: HEAD_SK } })),
        ConsistentRead: true,
        ProjectionExpression: 'pk, lastSeq',
      },
    };
    for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2_000)));
      const answer: BatchGetItemCommandOutput = await dynamodb.send(new BatchGetItemCommand({ RequestItems: request }));
      for (const item of answer.Responses?.[table] ?? []) found.push({ partition: Number(/#P#(\d{3})$/.exec(item.pk?.S ?? '')?.[1]), votes: Number(item.lastSeq?.N) });
      request = answer.UnprocessedKeys;
    }
  }
  return found.filter((c) => Number.isInteger(c.partition)).sort((a, b) => a.partition - b.partition);
}

export interface ChainWalk {
  readonly partition: number;
  /** Votes in the tree (the head's lastSeq, or `upTo`). */
  readonly size: number;
  readonly tree: MerkleTree;
  /** The chain's root, hex (its leaf in the election tree). */
  readonly root: string;
  readonly head: ChainState;
}

export interface WalkOptions {
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly electionId: string;
  readonly partition: number;
  /** Only the first `upTo` votes (an official result's chain size); default: up to the head. */
  readonly upTo?: number;
  /** Each vote of the tree, in seq order, after it verified. */
  readonly onVote?: (vote: StoredVote) => void;
}

function refuse(electionId: string, partition: number, detail: string): RecountRefusedError {
  return new RecountRefusedError(`chain ${chainPk(electionId, partition)}: ${detail}`);
}

/** Reads and verifies one chain; undefined when it has no head. */
export async function walkChain(o: WalkOptions): Promise<ChainWalk | undefined> {
  const { electionId, partition } = o;
  let head: ChainState | undefined;
  let leaves: Buffer | undefined;
  let size = 0;
  const verifier = new ChainVerifier();
  for await (const item of chainItems(o.dynamodb, o.table, electionId, partition)) {
    // The head sorts first (HEAD < VOTE#...): it tells how many votes to expect.
    if (item.sk?.S === HEAD_SK) {
      head = decodeHead(item);
      size = o.upTo ?? head.lastSeq;
      if (size > head.lastSeq) throw refuse(electionId, partition, `holds ${head.lastSeq} votes, fewer than the ${size} expected`);
      leaves = Buffer.alloc(size * 32);
      continue;
    }
    if (head === undefined || leaves === undefined) throw refuse(electionId, partition, `vote item ${item.sk?.S} without a head item`);
    const vote = decodeVote(electionId, partition, item);
    // Items beyond the head (or beyond upTo) are not part of this tree; the sink leaves none beyond the head.
    if (vote.seq > size) continue;
    const broken = verifier.push(vote);
    if (broken !== undefined) throw refuse(electionId, partition, `seq ${broken.seq}: ${broken.kind} is ${broken.actual}, expected ${broken.expected}`);
    leafHash(hashBytes(vote.hash, `hash of seq ${vote.seq}`)).copy(leaves, (vote.seq - 1) * 32);
    o.onVote?.(vote);
  }
  if (head === undefined || leaves === undefined) return undefined;
  const end = verifier.finish(o.upTo === undefined ? head : undefined);
  if (!end.ok) throw refuse(electionId, partition, `seq ${end.seq}: ${end.kind} is ${end.actual}, expected ${end.expected}`);
  if (end.lastSeq !== size) throw refuse(electionId, partition, `ends at seq ${end.lastSeq}, expected ${size}`);
  const tree = MerkleTree.fromLeafHashes(leaves);
  return { partition, size, tree, root: tree.root().toString('hex'), head };
}

function decodeVote(electionId: string, partition: number, item: Item): StoredVote {
  try {
    return decodeVoteItem(item);
  } catch (err) {
    throw refuse(electionId, partition, `undecodable item ${item.sk?.S}: ${(err as Error).message}`);
  }
}
