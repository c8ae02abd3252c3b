/**
 * Builds receipts for an official election: every chain is read once (to the size the official
 * result counted), checked against the official chain roots and election root, and kept as its
 * Merkle tree plus voteId -> (chain, seq). A receipt then costs one GetItem (the vote's fields) and
 * two proofs from memory. Memory: about 64 bytes of tree and one map entry per vote.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachBounded } from '../../sinks/bounded-parallel.js';
import { chainPk, electionRoot, hashBytes, voteSk, type ChainLink } from '../hash-chain.js';
import { decodeVoteItem } from '../vote-chain.js';
import { MerkleTree, leafHash } from './merkle.js';
import type { OfficialResult } from './official-result.js';
import { RECEIPT_FORMAT, receiptVote, type Receipt } from './receipt.js';
import { RecountRefusedError, walkChain } from './recount-chains.js';

export interface LoadReceiptsOptions {
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly official: OfficialResult;
  readonly concurrency?: number;
}

// (chain index, seq) in one number: seq < 2^40 (voteSk allows 12 digits), chains < 1000.
const SEQ_SPAN = 2 ** 40;

export class ElectionReceipts {
  readonly official: OfficialResult;
  readonly #dynamodb: DynamoDBClient;
  readonly #table: string;
  readonly #trees: MerkleTree[];
  readonly #electionTree: MerkleTree;
  readonly #votes: Map<string, number>;

  private constructor(o: LoadReceiptsOptions, trees: MerkleTree[], votes: Map<string, number>) {
    this.official = o.official;
    this.#dynamodb = o.dynamodb;
    this.#table = o.table;
    this.#trees = trees;
    this.#votes = votes;
    this.#electionTree = MerkleTree.fromEntries(o.official.chains.map((c) => hashBytes(c.root, 'chain root')));
  }

  /** Reads the official chains; RecountRefusedError when the log no longer matches the official result. */
  static async load(o: LoadReceiptsOptions): Promise<ElectionReceipts> {
    const { official } = o;
    if (electionRoot(official.chains) !== official.root) throw new RecountRefusedError(`the official result of ${official.electionId} does not add up to its own root`);
    const trees: MerkleTree[] = new Array<MerkleTree>(official.chains.length);
    const votes = new Map<string, number>();
    await forEachBounded(
      official.chains.map((c, i) => ({ ...c, index: i })),
      o.concurrency ?? 4,
      async (c) => {
        const walk = await walkChain({
          dynamodb: o.dynamodb,
          table: o.table,
          electionId: official.electionId,
          partition: c.partition,
          upTo: c.size,
          onVote: (v) => votes.set(v.voteId, c.index * SEQ_SPAN + v.seq),
        });
        if (walk?.root !== c.root) throw new RecountRefusedError(`chain ${chainPk(official.electionId, c.partition)} no longer has the official root ${c.root}`);
        trees[c.index] = walk.tree;
      },
    );
    return new ElectionReceipts(o, trees, votes);
  }

  /** The receipt of `voteId`, or undefined when the official result does not count it. */
  async receipt(voteId: string): Promise<Receipt | undefined> {
    const at = this.#votes.get(voteId);
    if (at === undefined) return undefined;
    const index = Math.floor(at / SEQ_SPAN);
    const seq = at % SEQ_SPAN;
    const { official } = this;
    const chain = official.chains[index];
    const answer = await this.#dynamodb.send(
      new GetItemCommand({ TableName: this.#table, Key: { pk: { S: chainPk(official.electionId, chain.partition) }, sk: { S: voteSk(seq) } }, ConsistentRead: true }),
    );
    if (answer.Item === undefined) throw new RecountRefusedError(`vote ${voteId} (${chainPk(official.electionId, chain.partition)} seq ${seq}) is gone from the table`);
    const v = decodeVoteItem(answer.Item);
    const tree = this.#trees[index];
    if (!leafHash(hashBytes(v.hash, 'vote hash')).equals(tree.leaf(seq - 1))) throw new RecountRefusedError(`vote ${voteId} changed since the official result`);
    return receiptOf({ official, chainIndex: index, chainTree: tree, electionTree: this.#electionTree, vote: v });
  }
}

export interface ReceiptParts {
  readonly official: OfficialResult;
  /** The vote's chain's position among official.chains. */
  readonly chainIndex: number;
  readonly chainTree: MerkleTree;
  /** The tree over official.chains' roots. */
  readonly electionTree: MerkleTree;
  readonly vote: ChainLink;
}

/** The receipt of one vote, from the trees (pure: the benchmark and tests build receipts without a table). */
export function receiptOf({ official, chainIndex, chainTree, electionTree, vote: v }: ReceiptParts): Receipt {
  return {
    format: RECEIPT_FORMAT,
    electionId: official.electionId,
    origin: official.origin,
    vote: receiptVote(v),
    chainIndex,
    chainSizes: official.chains.map((c) => c.size),
    voteProof: chainTree.inclusionProof(v.seq - 1).map((h) => h.toString('hex')),
    chainProof: electionTree.inclusionProof(chainIndex).map((h) => h.toString('hex')),
    checkpoint: official.checkpoint,
  };
}
