/**
 * One election's records of `votes-accepted` (read_committed, the whole topic to its end): each with
 * the partition and offset it was written at, which is where the persist path put it in the chain.
 */
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { topicNames } from '../topics.js';
import { decodeAcceptedVote, type AcceptedVote } from '../vote.js';
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

export async function readAcceptedVotes(driver: KafkaDriver, prefix: string, electionId: string): Promise<AcceptedVotes> {
  const records: AcceptedRecord[] = [];
  let undecodable = 0;
  const read = await readTopicToEnd({
    driver,
    topic: topicNames(prefix).votesAccepted,
    clientId: 'votestream-audit-accepted',
    onBatch: (batch) => {
      for (const r of batch) {
        const decoded = decodeAcceptedVote(r.value);
        if (!decoded.ok) {
          undecodable++;
          continue;
        }
        if (decoded.vote.electionId === electionId) records.push({ partition: r.partition, offset: Number(r.offset), vote: decoded.vote });
      }
    },
  });
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return { records, read, undecodable };
}
