/**
 * The expected result of one election computed from `votes` alone (DESIGN section 4's invariant:
 * the counted votes are the distinct voters whose first valid vote reached `votes`). It repeats
 * the dedup path's rules without its code paths or stores: a record must be keyed by its voterId
 * and its ts must not run more than MAX_VOTE_AHEAD_MS past the record's timestamp (else
 * `malformed`), then `decideVote` against the version in force at ts, then the first such vote of
 * each voter wins. Within a partition "first" is offset order, as the dedup path reads it; a voter
 * found on two partitions (a producer that placed a record by hand) keeps the earlier ts, so the
 * pipeline, which deduplicates per partition, is caught accepting both.
 */
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { decideVote } from '../decide.js';
import { versionAt, type ElectionHistory } from '../election.js';
import { MAX_VOTE_AHEAD_MS } from '../topology.js';
import { topicNames } from '../topics.js';
import { decodeVote, type RejectReason, type Vote } from '../vote.js';
import { readTopicToEnd } from './read-topic.js';

export interface SourcedVote extends Vote {
  /** Where it was read in `votes`. */
  readonly partition: number;
  readonly offset: number;
}

export interface ExpectedResult {
  /** voteId -> the first valid vote of its voter: exactly what must be counted. */
  readonly firstVotes: Map<string, SourcedVote>;
  /** Records of `votes` read, every election. */
  readonly read: number;
  /** The election's votes rejected, by reason (`duplicate` included). */
  readonly rejected: Partial<Record<RejectReason, number>>;
}

export async function expectedResult(driver: KafkaDriver, prefix: string, electionId: string, history: ElectionHistory): Promise<ExpectedResult> {
  const byVoter = new Map<string, SourcedVote>();
  const rejected: Partial<Record<RejectReason, number>> = {};
  const reject = (reason: RejectReason) => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
  };
  const read = await readTopicToEnd({
    driver,
    topic: topicNames(prefix).votes,
    clientId: 'votestream-audit-votes',
    onBatch: (records) => {
      for (const r of records) {
        const decoded = decodeVote(r.value);
        // Not a vote of this election (or not a vote at all: malformed, dead-lettered).
        if (!decoded.ok || decoded.vote.electionId !== electionId) continue;
        const vote = decoded.vote;
        const key = r.key === null ? null : r.key.toString('utf8');
        const reason = key !== vote.voterId || vote.ts > r.timestamp + MAX_VOTE_AHEAD_MS ? 'malformed' : decideVote(vote, versionAt(history, vote.ts));
        if (reason !== undefined) {
          reject(reason);
          continue;
        }
        const seen = byVoter.get(vote.voterId);
        if (seen === undefined || (seen.partition !== r.partition && vote.ts < seen.ts)) {
          if (seen !== undefined) reject('duplicate');
          byVoter.set(vote.voterId, { ...vote, partition: r.partition, offset: Number(r.offset) });
        } else {
          reject('duplicate');
        }
      }
    },
  });
  return { firstVotes: new Map([...byVoter.values()].map((v) => [v.voteId, v])), read, rejected };
}
