/**
 * One election's records of `votes-accepted` (read_committed, the whole topic to its end): each with
 * the partition and offset it was written at, which is where the persist path put it in the chain.
 */
import { isUtf8 } from 'node:buffer';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { topicNames } from '../topics.js';
import { decodeAcceptedVote, validateVoteFast, type AcceptedVote } from '../vote.js';
import { readTopicToEnd } from './read-topic.js';

export interface AcceptedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly vote: AcceptedVote;
}

export interface AcceptedVotes {
  /** The election's records, partition by partition in offset order. */
  readonly records: AcceptedRecord[];
  /** Records of every election that were read. */
  readonly read: number;
  /** Records that are not accepted votes at all (the sinks dead-letter them). */
  readonly undecodable: number;
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * The audit reads every accepted vote, and zod costs about 10 µs a record: a third of `audit
 * verify`'s time. This path accepts only what AcceptedVoteSchema accepts (validateVoteFast is the
 * vote schema's own fast twin; `source` is checked as SourceSchema does: a strict object of two safe
 * integers >= 0); anything else returns undefined and goes to decodeAcceptedVote, whose verdict stands.
 */
export function decodeAcceptedFast(bytes: Buffer | null): AcceptedVote | undefined {
  if (bytes === null || !isUtf8(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  // A JSON `__proto__` key stays an own property of `rest`, so validateVoteFast refuses it as unknown.
  const { source, ...rest } = value as Record<string, unknown>;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return undefined;
  for (const key in source) if (key !== 'partition' && key !== 'offset') return undefined;
  const { partition, offset } = source as Record<string, unknown>;
  if (!isOffset(partition) || !isOffset(offset)) return undefined;
  const vote = validateVoteFast(rest);
  return vote === undefined ? undefined : { ...vote, source: { partition, offset } };
}

export async function readAcceptedVotes(driver: KafkaDriver, prefix: string, electionId: string): Promise<AcceptedVotes> {
  const records: AcceptedRecord[] = [];
  let undecodable = 0;
  const read = await readTopicToEnd({
    driver,
    topic: topicNames(prefix).votesAccepted,
    clientId: 'votestream-audit-accepted',
    onBatch: (batch) => {
      for (const r of batch) {
        let vote = decodeAcceptedFast(r.value);
        if (vote === undefined) {
          const decoded = decodeAcceptedVote(r.value);
          if (!decoded.ok) {
            undecodable++;
            continue;
          }
          vote = decoded.vote;
        }
        if (vote.electionId === electionId) records.push({ partition: r.partition, offset: Number(r.offset), vote });
      }
    },
  });
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return { records, read, undecodable };
}
