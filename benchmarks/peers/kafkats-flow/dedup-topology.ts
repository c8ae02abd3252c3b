/**
 * Our dedup sub-topology (voting/topology.ts addDedup) expressed in @kafkats/flow's DSL, judging with
 * our own pure functions so the output values are the same bytes:
 *   votes -> map(judge) -> branch: undecodable -> votes-dlq (original bytes, our four headers)
 *                                  schema failure / ineligible -> votes-rejected
 *                                  eligible -> groupBy(electionId:voterId).aggregate(store `voters`)
 *                                              -> accepted (with source) | duplicate (rejected)
 * Flow has no Processor API: record metadata comes from record-context.ts, and the dedupe is an
 * aggregate whose stored value is the first voteId (its changelog then holds what ours holds).
 * groupBy in flow re-keys without a repartition topic, which is right here: every vote of a voter
 * is keyed, hence partitioned, by that voter, so electionId:voterId stays on its partition.
 */
import { BenchmarkError } from '../../errors.js';
import { buffer, string, type Codec, type FlowApp, type KeyValue } from '@kafkats/flow';
import { partitionForKey } from '../../../runtime/partitioner.js';
import { decideVote } from '../../../voting/decide.js';
import { versionAt } from '../../../voting/election.js';
import { dedupeKey, topicNames, VOTERS_STORE } from '../../../voting/topics.js';
import { MAX_VOTE_AHEAD_MS } from '../../../voting/topology.js';
import { decodeVote, encodeJson, malformedRejection, toAcceptedVote, toRejectedVote, type RejectReason, type Vote } from '../../../voting/vote.js';
import type { ElectionsFollower } from './elections-follower.js';
import { currentRecord } from './record-context.js';

/** A `votes` record once judged; outputs are encoded here, so every sink writes plain bytes. */
type Judged =
  | { readonly kind: 'dead-letter'; readonly raw: Buffer | null }
  | { readonly kind: 'rejected'; readonly key: Buffer | null; readonly value: Buffer }
  | { readonly kind: 'eligible'; readonly vote: Vote };

/** The `voters` aggregate: the first voteId of a pair (all the store keeps) and the vote being judged. */
interface FirstVote {
  readonly first: string | undefined;
  readonly vote?: Vote;
  readonly accepted: boolean;
}

/** Stores only the first voteId, so the store and its changelog hold `electionId:voterId -> voteId` as ours do. */
const firstVoteCodec: Codec<FirstVote> = {
  encode: (v) => Buffer.from(v.first ?? '', 'utf8'),
  decode: (b) => ({ first: b.toString('utf8'), accepted: false }),
};

export interface DedupStats {
  accepted: number;
  rejected: number;
  deadLettered: number;
  /** Votes judged while the elections table was not yet known complete up to their `ts` (flow cannot wait). */
  judgedAhead: number;
}

export interface DedupTopologyOptions {
  readonly prefix: string;
  readonly elections: ElectionsFollower;
  /** Called for the first vote judged ahead of the elections table (and every 1000th after). */
  readonly onJudgedAhead?: (vote: Vote, completeUpTo: number, count: number) => void;
}

/**
 * Keyed records go where our collector puts them (Java-compatible murmur2 of the key bytes), so
 * partition p of an output matches partition p of ours; a keyless record stays on its input's partition.
 */
function partitioner(key: Buffer | null, _value: Buffer | null, count: number): number {
  return key === null ? currentRecord().partition % count : partitionForKey(key, count);
}

export function buildDedupTopology(app: FlowApp, o: DedupTopologyOptions): DedupStats {
  const topics = topicNames(o.prefix);
  const stats: DedupStats = { accepted: 0, rejected: 0, deadLettered: 0, judgedAhead: 0 };
  const bytes = { key: buffer(), value: buffer(), partitioner };

  const judge = (key: Buffer | null, raw: Buffer | null): Judged => {
    const record = currentRecord();
    const decoded = decodeVote(raw);
    if (!decoded.ok) {
      if (decoded.kind === 'malformed') return { kind: 'rejected', key, value: encodeJson(malformedRejection(decoded.raw)) };
      // Our source sends what is not even a JSON object to the dead-letter topic with these headers.
      Object.assign(record.headers, {
        error: Buffer.from(`undecodable vote on "${record.topic}": ${decoded.error}`, 'utf8'),
        'source-topic': Buffer.from(record.topic, 'utf8'),
        'source-partition': Buffer.from(String(record.partition), 'utf8'),
        'source-offset': Buffer.from(String(record.offset), 'utf8'),
      });
      return { kind: 'dead-letter', raw };
    }
    const vote = decoded.vote;
    const voterKey = Buffer.from(vote.voterId, 'utf8');
    let reason: RejectReason | undefined;
    if (key === null || key.toString('utf8') !== vote.voterId || vote.ts > record.timestamp + MAX_VOTE_AHEAD_MS) {
      reason = 'malformed';
    } else {
      if (vote.ts > o.elections.completeUpTo) {
        stats.judgedAhead++;
        if (stats.judgedAhead % 1000 === 1) o.onJudgedAhead?.(vote, o.elections.completeUpTo, stats.judgedAhead);
      }
      reason = decideVote(vote, versionAt(o.elections.historyOf(vote.electionId), vote.ts));
    }
    if (reason !== undefined) return { kind: 'rejected', key: voterKey, value: encodeJson(toRejectedVote(vote, reason)) };
    return { kind: 'eligible', vote };
  };

  const [deadLetters, rejected, eligible] = app
    .stream<Buffer, Buffer>(topics.votes, { key: buffer(), value: buffer(), offsetReset: 'earliest' })
    .map((key, raw): KeyValue<Buffer | null, Judged> => [key, judge(key, raw)])
    .branch(
      (_k, j) => j?.kind === 'dead-letter',
      (_k, j) => j?.kind === 'rejected',
      (_k, j) => j?.kind === 'eligible',
    );

  deadLetters
    .mapValues((j) => {
      stats.deadLettered++;
      return j?.kind === 'dead-letter' ? j.raw : null;
    })
    .to(topics.votesDlq, bytes);

  rejected
    .map((_k, j): KeyValue<Buffer | null, Buffer> => {
      if (j?.kind !== 'rejected') throw new BenchmarkError('BENCHMARK_OUTPUT', 'branch mismatch: a rejected branch got a vote judged otherwise');
      stats.rejected++;
      return [j.key, j.value];
    })
    .to(topics.votesRejected, bytes);

  const [accepted, duplicates] = eligible
    .mapValues((j) => (j?.kind === 'eligible' ? j.vote : null))
    .groupBy((_k, vote) => dedupeKey(vote!.electionId, vote!.voterId), { key: string() })
    .aggregate<FirstVote>(
      () => ({ first: undefined, accepted: false }),
      (_key, vote, stored) => (stored.first === undefined ? { first: vote.voteId, vote, accepted: true } : { first: stored.first, vote, accepted: false }),
      { storeName: VOTERS_STORE, key: string(), value: firstVoteCodec },
    )
    .toStream()
    .branch(
      (_k, agg) => agg?.accepted === true,
      () => true,
    );

  accepted
    .map((_k, agg): KeyValue<Buffer, Buffer> => {
      const record = currentRecord();
      stats.accepted++;
      return [Buffer.from(agg!.vote!.voterId, 'utf8'), encodeJson(toAcceptedVote(agg!.vote!, record.partition, record.offset))];
    })
    .to(topics.votesAccepted, bytes);

  duplicates
    .map((_k, agg): KeyValue<Buffer, Buffer> => {
      stats.rejected++;
      return [Buffer.from(agg!.vote!.voterId, 'utf8'), encodeJson(toRejectedVote(agg!.vote!, 'duplicate'))];
    })
    .to(topics.votesRejected, bytes);

  return stats;
}
