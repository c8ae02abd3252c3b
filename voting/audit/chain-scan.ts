/**
 * Reads and checks every chain of one election (DESIGN section 3): chains 0..N-1 of
 * `votestream-votes`, a bounded number of paged Queries at a time, each item decoded and pushed
 * through the ChainVerifier as it arrives (seq from 1, prevHash links, recomputed hashes, the end
 * at the head). Besides the verifier's first break per chain it checks what the verifier does not
 * know about: `votes-accepted` offsets strictly growing along the chain and the head's lastOffset
 * being the last vote's.
 *
 * A chain grows while it is read (the persist path may be running): the head comes first in the
 * Query (`HEAD` sorts before `VOTE#`), so items appended later show up beyond it. The sink writes
 * items and head in one transaction, so such items are legitimate exactly when the head, read
 * again after the chain, covers them; otherwise the head was moved back and it is a finding.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachBounded } from '../../sinks/bounded-parallel.js';
import { decodeHead, type ChainState, type Item } from '../../sinks/chain-items.js';
import { chainPk, ChainVerifier, HEAD_SK, type ChainBreakKind } from '../hash-chain.js';
import { chainItems, decodeVoteItem } from '../vote-chain.js';
import { readFailure } from './read-failure.js';

/** What is wrong where: the verifier's kinds, plus the checks of this file. */
export type ChainField =
  | ChainBreakKind
  /** A vote's `votes-accepted` offset is not above the previous vote's (an item moved or repeated). */
  | 'offset'
  /** The head's lastOffset is not the offset of the vote at its lastSeq. */
  | 'lastOffset'
  /** An item that does not decode as a vote or head item. */
  | 'item';

/** One problem in one chain: the chain (partition), the seq, the field, and what was expected there. */
export interface ChainFinding {
  readonly partition: number;
  readonly seq: number;
  readonly field: ChainField;
  readonly expected: string;
  readonly actual: string;
}

/** A vote of a chain, without its hashes (they are checked as the chain is read, then dropped). */
export interface ChainVote {
  readonly partition: number;
  readonly seq: number;
  /** `votes-accepted` offset. */
  readonly offset: number;
  /** `votes` offset. */
  readonly sourceOffset: number;
  readonly voteId: string;
  readonly voterId: string;
  readonly candidateId: string;
  readonly region?: string;
  readonly ts: number;
}

export interface ScannedChain {
  readonly partition: number;
  /** As first read; undefined when the chain has no head item. */
  readonly head: ChainState | undefined;
  /** The committed votes (seq <= head.lastSeq) in seq order: what the chain counts. */
  readonly votes: ChainVote[];
  /** Items read beyond the head (appended while it was read, or left behind a moved head). */
  readonly beyondHead: number;
  readonly findings: ChainFinding[];
}

export interface ScanChainsOptions {
  readonly dynamodb: DynamoDBClient;
  /** The `votestream-votes` table. */
  readonly table: string;
  readonly electionId: string;
  /** Chains 0..partitions-1: the partition count of `votes-accepted`. */
  readonly partitions: number;
  /** Queries in flight. Default 4. */
  readonly concurrency?: number;
  /** Votes the heads hold in all, once they are read (before the chains). */
  readonly onTotal?: (votes: number) => void;
  /** Votes read so far, in all. */
  readonly onProgress?: (votes: number) => void;
}

const PROGRESS_EVERY = 500;
const SK_SEQ = /^VOTE#(\d{12})$/;

export async function readHead(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number): Promise<ChainState | undefined> {
  const r = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: chainPk(electionId, partition) }, sk: { S: HEAD_SK } }, ConsistentRead: true }));
  return r.Item === undefined ? undefined : decodeHead(r.Item);
}

/** Every chain of the election, checked, in partition order. */
export async function scanChains(options: ScanChainsOptions): Promise<ScannedChain[]> {
  const { dynamodb, table, electionId } = options;
  const partitions = Array.from({ length: options.partitions }, (_, p) => p);
  const concurrency = options.concurrency ?? 4;
  try {
    if (options.onTotal !== undefined) {
      let total = 0;
      await forEachBounded(partitions, concurrency, async (p) => {
        total += (await readHead(dynamodb, table, electionId, p).catch(() => undefined))?.lastSeq ?? 0;
      });
      options.onTotal(total);
    }
    let read = 0;
    const tick = (n: number) => {
      read += n;
      options.onProgress?.(read);
    };
    const chains: ScannedChain[] = [];
    await forEachBounded(partitions, concurrency, async (partition) => {
      chains.push(await scanChain(dynamodb, table, electionId, partition, tick));
    });
    return chains.sort((a, b) => a.partition - b.partition);
  } catch (err) {
    throw readFailure(`the chains of election ${electionId} in DynamoDB table ${table}`, err);
  }
}

async function scanChain(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number, tick: (n: number) => void): Promise<ScannedChain> {
  const verifier = new ChainVerifier();
  const findings: ChainFinding[] = [];
  const votes: ChainVote[] = [];
  let head: ChainState | undefined;
  let prevOffset = -1;
  let pending = 0;
  /** The hash of the vote at the head's lastSeq, for a chain that grew while it was read. */
  let hashAtHead: string | undefined;
  const finding = (seq: number, field: ChainField, expected: string, actual: string) => findings.push({ partition, seq, field, expected, actual });
  for await (const item of chainItems(dynamodb, table, electionId, partition)) {
    if (item.sk?.S === HEAD_SK) {
      try {
        head = decodeHead(item);
      } catch (err) {
        finding(0, 'head', 'a head item with lastSeq, lastHash and lastOffset', (err as Error).message);
      }
      continue;
    }
    let link;
    try {
      link = decodeVoteItem(item);
    } catch (err) {
      finding(seqOf(item), 'item', 'a vote item', (err as Error).message);
      continue;
    }
    // The verifier keeps its first break; later links are still decoded and counted.
    verifier.push(link);
    if (link.seq === head?.lastSeq) hashAtHead = link.hash;
    if (link.offset <= prevOffset) finding(link.seq, 'offset', `> ${prevOffset}`, String(link.offset));
    prevOffset = link.offset;
    const { seq, offset, sourceOffset, voteId, voterId, candidateId, region, ts } = link;
    votes.push({ partition, seq, offset, sourceOffset, voteId, voterId, candidateId, ...(region === undefined ? {} : { region }), ts });
    if (++pending === PROGRESS_EVERY) {
      tick(pending);
      pending = 0;
    }
  }
  tick(pending);
  const lastSeq = votes.at(-1)?.seq ?? 0;
  const headSeq = head?.lastSeq ?? 0;
  // Appended while the chain was read: the head read now covers them (see the file comment).
  const grew = head !== undefined && lastSeq > headSeq && ((await readHead(dynamodb, table, electionId, partition))?.lastSeq ?? 0) >= lastSeq;
  const verdict = head === undefined || grew ? verifier.finish() : verifier.finish(head);
  if (!verdict.ok) finding(verdict.seq, verdict.kind, verdict.expected, verdict.actual);
  // What finish(head) checks for a chain that ended at its head: the head names the vote at its seq.
  if (verdict.ok && grew && head !== undefined && hashAtHead !== head.lastHash) finding(headSeq, 'head', hashAtHead ?? '(no vote at that seq)', head.lastHash);
  if (head === undefined && votes.length > 0) finding(lastSeq, 'head', `a head at seq ${lastSeq}`, 'no head item');
  const committed = votes.filter((v) => v.seq <= headSeq);
  if (head !== undefined) {
    const lastOffset = committed.find((v) => v.seq === headSeq)?.offset ?? -1;
    if (lastOffset !== head.lastOffset) finding(headSeq, 'lastOffset', String(lastOffset), String(head.lastOffset));
  }
  findings.sort((a, b) => a.seq - b.seq || a.field.localeCompare(b.field));
  return { partition, head, votes: committed, beyondHead: votes.length - committed.length, findings };
}

function seqOf(item: Item): number {
  const m = SK_SEQ.exec(item.sk?.S ?? '');
  return m === null ? 0 : Number(m[1]);
}
