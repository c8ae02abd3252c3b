/**
 * Pure part of the DynamoDB vote sink: the item formats of a hash chain (DESIGN section 3) and the
 * planning of one chain write. No I/O.
 *
 * Vote item: pk `ELECTION#<E>#P#<ppp>`, sk `VOTE#<seq 12 digits>`, voteId, voterId, candidateId,
 * region (absent when the vote has none), ts, offset (`votes-accepted`), sourceOffset (`votes`),
 * prevHash, hash. Head item: pk, sk `HEAD`, lastSeq, lastHash, lastOffset.
 * Watermark item, one per `votes-accepted` partition: pk `PARTITION#<ppp>`, sk `WATERMARK`,
 * lastOffset = the highest offset of the partition whose votes every chain holds (-1: none yet).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { chainPk, GENESIS_HASH, HEAD_SK, voteHash, voteSk, type ChainLink } from '../voting/hash-chain.js';
import type { AcceptedVote } from '../voting/vote.js';
import { VotestreamError } from '../runtime/errors.js';

export type Item = Record<string, AttributeValue>;

/** Where a chain stands: its head item, or the empty state before the first vote. */
export interface ChainState {
  readonly lastSeq: number;
  readonly lastHash: string;
  /** The highest `votes-accepted` offset in the chain, -1 when empty: the fence. */
  readonly lastOffset: number;
}

export const EMPTY_CHAIN: ChainState = Object.freeze({ lastSeq: 0, lastHash: GENESIS_HASH, lastOffset: -1 });

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

/**
 * Largest number of votes in one TransactWriteItems: 100 actions, one of which moves the head and
 * one checks the partition's watermark.
 */
export const MAX_VOTES_PER_TRANSACTION = 98;

export const WATERMARK_SK = 'WATERMARK';

/** pk of a partition's watermark item. Cannot collide with a chain pk (those start `ELECTION#`). */
export function watermarkPk(partition: number): string {
  return `PARTITION#${String(partition).padStart(3, '0')}`;
}

export function watermarkKey(partition: number): Item {
  return { pk: { S: watermarkPk(partition) }, sk: { S: WATERMARK_SK } };
}

/** The watermark's lastOffset, or undefined when the item is absent. */
export function decodeWatermark(item: Item | undefined): number | undefined {
  return item === undefined ? undefined : num(item, 'lastOffset');
}

/** A watermark the writer expects: the chain transaction fails unless it exists at `known` or above. */
export interface WatermarkGuard {
  readonly partition: number;
  readonly known: number;
}

export class ChainItemError extends VotestreamError {
  constructor(message: string) {
    super('CHAIN_ITEM', message);
  }
}

/** The links that append `inputs` (already above the fence, in offset order) to `state`. */
export function buildLinks(electionId: string, partition: number, state: ChainState, inputs: readonly ChainInput[]): StoredVote[] {
  const links: StoredVote[] = [];
  let prevHash = state.lastHash;
  let seq = state.lastSeq;
  let lastOffset = state.lastOffset;
  for (const { offset, vote } of inputs) {
    if (offset <= lastOffset) throw new ChainItemError(`chain ${chainPk(electionId, partition)}: offset ${offset} is not above ${lastOffset}`);
    seq++;
    const fields = {
      prevHash,
      electionId,
      partition,
      seq,
      voteId: vote.voteId,
      voterId: vote.voterId,
      candidateId: vote.candidateId,
      region: vote.region,
      ts: vote.ts,
    };
    const hash = voteHash(fields);
    links.push({ ...fields, hash, offset, sourceOffset: vote.source.offset });
    prevHash = hash;
    lastOffset = offset;
  }
  return links;
}

/** The chain state after `links` (which must continue `state`). */
export function stateAfter(state: ChainState, links: readonly StoredVote[]): ChainState {
  const last = links[links.length - 1];
  return last === undefined ? state : { lastSeq: last.seq, lastHash: last.hash, lastOffset: last.offset };
}

export function voteItem(link: StoredVote): Item {
  const item: Item = {
    pk: { S: chainPk(link.electionId, link.partition) },
    sk: { S: voteSk(link.seq) },
    voteId: { S: link.voteId },
    voterId: { S: link.voterId },
    candidateId: { S: link.candidateId },
    ts: { N: String(link.ts) },
    offset: { N: String(link.offset) },
    sourceOffset: { N: String(link.sourceOffset) },
    prevHash: { S: link.prevHash },
    hash: { S: link.hash },
  };
  if (link.region !== undefined) item.region = { S: link.region };
  return item;
}

export function headItem(electionId: string, partition: number, state: ChainState): Item {
  return {
    pk: { S: chainPk(electionId, partition) },
    sk: { S: HEAD_SK },
    lastSeq: { N: String(state.lastSeq) },
    lastHash: { S: state.lastHash },
    lastOffset: { N: String(state.lastOffset) },
  };
}

function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new ChainItemError(`item ${item.pk?.S}/${item.sk?.S} has no string attribute ${name}`);
  return v;
}

function num(item: Item, name: string): number {
  const v = item[name]?.N;
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isSafeInteger(n)) throw new ChainItemError(`item ${item.pk?.S}/${item.sk?.S} has no integer attribute ${name}`);
  return n;
}

export function decodeHead(item: Item | undefined): ChainState {
  if (item === undefined) return EMPTY_CHAIN;
  return { lastSeq: num(item, 'lastSeq'), lastHash: str(item, 'lastHash'), lastOffset: num(item, 'lastOffset') };
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

/**
 * The TransactWriteItems actions appending `links` after `state`: a Put per vote that must not
 * exist yet, and the head Put conditioned on the head the links were computed from (absent for
 * the first write). The head condition is what serializes writers: two sink instances racing on one
 * chain (a zombie after a rebalance) both compute seq N+1, and only one transaction can win.
 */
export function chainTransaction(table: string, electionId: string, partition: number, state: ChainState, links: readonly StoredVote[], guard?: WatermarkGuard) {
  if (links.length === 0 || links.length > MAX_VOTES_PER_TRANSACTION) {
    throw new ChainItemError(`a chain transaction holds 1..${MAX_VOTES_PER_TRANSACTION} votes, got ${links.length}`);
  }
  const votePuts = links.map((link) => ({
    Put: { TableName: table, Item: voteItem(link), ConditionExpression: 'attribute_not_exists(pk)' },
  }));
  const next = stateAfter(state, links);
  const headPut =
    state.lastSeq === 0
      ? { Put: { TableName: table, Item: headItem(electionId, partition, next), ConditionExpression: 'attribute_not_exists(pk)' } }
      : {
          Put: {
            TableName: table,
            Item: headItem(electionId, partition, next),
            ConditionExpression: 'lastSeq = :prev',
            ExpressionAttributeValues: { ':prev': { N: String(state.lastSeq) } },
          },
        };
  // Last, so that a failed guard is the last cancellation reason (see watermarkGuardFailed).
  const check =
    guard === undefined
      ? []
      : [
          {
            ConditionCheck: {
              TableName: table,
              Key: watermarkKey(guard.partition),
              ConditionExpression: 'lastOffset >= :known',
              ExpressionAttributeValues: { ':known': { N: String(guard.known) } },
            },
          },
        ];
  return [...votePuts, headPut, ...check];
}

/**
 * Whether a TransactionCanceledException came from the watermark guard of a chain transaction
 * built with one (its last action): the table lost the watermark, so it lost state.
 */
export function watermarkGuardFailed(err: unknown, actions: number): boolean {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] } | null)?.CancellationReasons;
  return Array.isArray(reasons) && reasons.length === actions && reasons[actions - 1]?.Code === 'ConditionalCheckFailed';
}
