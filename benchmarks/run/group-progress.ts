/**
 * Where each stage's consumer group stands, read once a second from the broker: committed offsets
 * of dedup on `votes` and of count and persist on `votes-accepted`, and the lag to the end offsets.
 *
 * Offsets, not records: `votes-accepted` is written in transactions, and each commit leaves a
 * marker that takes an offset, so count and persist figures over-count by the markers (about one
 * per partition per commit, under 1% at these rates). `votes` has no markers: dedup is exact.
 * The verdict counts records; these figures are for the curves.
 */
import type { KafkaAdmin, TopicPartitionOffset } from '../../runtime/kafka/driver.js';
import { votingGroupId } from '../../voting/count-offsets-reset.js';
import { topicNames } from '../../voting/topics.js';

export interface GroupPosition {
  readonly committed: { readonly dedup: number; readonly count: number; readonly persist: number };
  readonly lag: { readonly dedup: number; readonly count: number; readonly persist: number };
  /** End offsets of `votes` (records) and `votes-accepted` (records and markers). */
  readonly ends: { readonly votes: number; readonly accepted: number };
}

const sum = (xs: readonly TopicPartitionOffset[]): number => xs.reduce((n, x) => n + Number(x.offset), 0);

export async function readGroupPositions(admin: KafkaAdmin, prefix: string): Promise<GroupPosition> {
  const topics = topicNames(prefix);
  const [votesEnd, acceptedEnd, dedup, count, persist] = await Promise.all([
    admin.endOffsets([topics.votes], 'read_uncommitted'),
    admin.endOffsets([topics.votesAccepted], 'read_uncommitted'),
    admin.committedOffsets(votingGroupId(prefix, 'dedup'), [topics.votes]).catch(() => []),
    admin.committedOffsets(votingGroupId(prefix, 'count'), [topics.votesAccepted]).catch(() => []),
    admin.committedOffsets(votingGroupId(prefix, 'persist'), [topics.votesAccepted]).catch(() => []),
  ]);
  const committed = { dedup: sum(dedup), count: sum(count), persist: sum(persist) };
  const ends = { votes: sum(votesEnd), accepted: sum(acceptedEnd) };
  return {
    committed,
    ends,
    lag: { dedup: Math.max(0, ends.votes - committed.dedup), count: Math.max(0, ends.accepted - committed.count), persist: Math.max(0, ends.accepted - committed.persist) },
  };
}
