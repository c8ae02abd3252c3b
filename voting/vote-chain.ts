/**
 * The vote chains (DESIGN section 3) as a configuration of the generic hash-chained log: one chain
 * per (election, `votes-accepted` partition), pk `ELECTION#<E>#P#<ppp>`, entries `VOTE#<seq>` with
 * voteId, voterId, candidateId, region (absent when the vote has none), ts and sourceOffset (the
 * `votes` offset) beside the chain's own offset, prevHash and hash; the hash is `voteHash`
 * (hash-chain.ts). Also the vote-shaped helpers over it that the rebuilds, benchmarks and tests use.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  buildEntries,
  ChainItemError,
  entryItem,
  num,
  str,
  type ChainLayout,
  type ChainState,
  type Item,
} from '../sinks/chain-items.js';
import { chainItems as rawChainItems, readChainItems } from '../sinks/chain-reader.js';
import type { SinkRecord } from '../sinks/sink.js';
import { chainPk, HEAD_SK, voteHash, voteSk, type ChainLink } from './hash-chain.js';
import type { AcceptedVote } from './vote.js';

type VoteRecord = SinkRecord<string, AcceptedVote>;

/** The vote chains' layout. */
export const voteChainLayout: ChainLayout<string, AcceptedVote> = {
  chainKey: (record) => chainPk(record.value.electionId, record.partition),
  entrySk: voteSk,
  headSk: HEAD_SK,
  hash: ({ prevHash, seq, record }) => voteHash({ ...hashFields(record), prevHash, seq }),
  attributes: ({ record }) => {
    const vote = record.value;
    const item: Item = {
      voteId: { S: vote.voteId },
      voterId: { S: vote.voterId },
      candidateId: { S: vote.candidateId },
      ts: { N: String(vote.ts) },
      sourceOffset: { N: String(vote.source.offset) },
    };
    if (vote.region !== undefined) item.region = { S: vote.region };
    return item;
  },
};

function hashFields(record: VoteRecord) {
  const vote = record.value;
  return { electionId: vote.electionId, partition: record.partition, voteId: vote.voteId, voterId: vote.voterId, candidateId: vote.candidateId, region: vote.region, ts: vote.ts };
}

/** A vote item read back, with everything needed to verify and to recount it. */
export interface StoredVote extends ChainLink {
  readonly offset: number;
  readonly sourceOffset: number;
}

/** One input of a chain: the accepted vote and its `votes-accepted` offset. */
export interface ChainInput {
  readonly offset: number;
  readonly vote: AcceptedVote;
}

function recordOf(electionId: string, partition: number, offset: number, vote: AcceptedVote): VoteRecord {
  return { topic: 'votes-accepted', partition, offset, timestamp: 0, key: vote.voterId, value: { ...vote, electionId }, headers: {} };
}

/** The links that append `inputs` (above the fence, in offset order) to the chain of (election, partition) at `state`. */
export function buildLinks(electionId: string, partition: number, state: ChainState, inputs: readonly ChainInput[]): StoredVote[] {
  const records = inputs.map(({ offset, vote }) => recordOf(electionId, partition, offset, vote));
  return buildEntries(voteChainLayout, chainPk(electionId, partition), state, records).map(({ seq, prevHash, hash, offset, record }) => ({
    ...hashFields(record),
    prevHash,
    seq,
    hash,
    offset,
    sourceOffset: record.value.source.offset,
  }));
}

/** The item of a link (as the sink writes it). */
export function voteItem(link: StoredVote): Item {
  const vote: AcceptedVote = {
    voteId: link.voteId,
    electionId: link.electionId,
    voterId: link.voterId,
    candidateId: link.candidateId,
    ...(link.region === undefined ? {} : { region: link.region }),
    ts: link.ts,
    source: { partition: link.partition, offset: link.sourceOffset },
  };
  const record = recordOf(link.electionId, link.partition, link.offset, vote);
  return entryItem(voteChainLayout, { chain: chainPk(link.electionId, link.partition), seq: link.seq, prevHash: link.prevHash, hash: link.hash, offset: link.offset, record });
}

const PK_PATTERN = /^ELECTION#(.+)#P#(\d{3})$/;
const SK_PATTERN = /^VOTE#(\d{12})$/;

export function decodeVoteItem(item: Item): StoredVote {
  const pk = PK_PATTERN.exec(str(item, 'pk'));
  const sk = SK_PATTERN.exec(str(item, 'sk'));
  if (!pk || !sk) throw new ChainItemError(`not a vote item: ${item.pk?.S}/${item.sk?.S}`);
  const region = item.region?.S;
  return {
    prevHash: str(item, 'prevHash'),
    electionId: pk[1],
    partition: Number(pk[2]),
    seq: Number(sk[1]),
    voteId: str(item, 'voteId'),
    voterId: str(item, 'voterId'),
    candidateId: str(item, 'candidateId'),
    ...(region === undefined ? {} : { region }),
    ts: num(item, 'ts'),
    hash: str(item, 'hash'),
    offset: num(item, 'offset'),
    sourceOffset: num(item, 'sourceOffset'),
  };
}

export interface ChainContents {
  /** Undefined when the chain has no head item (no vote was ever written). */
  readonly head: ChainState | undefined;
  /** Vote items in seq order, including any beyond the head (there should be none). */
  readonly votes: StoredVote[];
}

/** Yields the chain's raw items (head first, then votes in seq order), page by page. */
export function chainItems(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number): AsyncGenerator<Item> {
  return rawChainItems(dynamodb, table, chainPk(electionId, partition));
}

/** The chain of (election, partition): its head and its votes in seq order. */
export async function readChain(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number): Promise<ChainContents> {
  const { head, entries } = await readChainItems(dynamodb, table, chainPk(electionId, partition), HEAD_SK, decodeVoteItem);
  return { head, votes: entries };
}
