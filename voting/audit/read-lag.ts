/**
 * How far behind its input each part of the pipeline is, in records: dedup on `votes`, count and
 * persist on `votes-accepted`. An audit reports it beside its findings: while a part is behind,
 * what it has not processed yet shows up as differences that may only be in flight.
 *
 * Records, not offsets: `votes-accepted` is written in transactions, so a caught-up group's
 * committed offset sits one below the end (the commit marker takes an offset, and is no record).
 * The records between the committed offsets and the end are read (read_committed) and counted.
 */
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { votingGroupId } from '../count-offsets-reset.js';
import { topicNames } from '../topics.js';
import { readFailure } from './read-failure.js';

export interface PipelineLag {
  /** Records of `votes` the dedup group has not committed. */
  readonly dedup: number;
  /** Records of `votes-accepted` the count group has not committed. */
  readonly count: number;
  /** Records of `votes-accepted` the persist group has not committed. */
  readonly persist: number;
}

async function behind(driver: KafkaDriver, prefix: string, role: 'dedup' | 'count' | 'persist', topic: string): Promise<number> {
  const admin = driver.createAdmin({ clientId: 'votestream-audit-lag' });
  let partitions: number;
  let committed: Map<number, bigint>;
  try {
    partitions = (await admin.partitionCounts([topic])).get(topic) ?? 0;
    committed = new Map((await admin.committedOffsets(votingGroupId(prefix, role), [topic])).map((c) => [c.partition, c.offset]));
  } finally {
    await admin.close();
  }
  const reader = await driver.createReader({
    partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: committed.get(partition) ?? ('earliest' as const) })),
    isolation: 'read_committed',
    clientId: 'votestream-audit-lag',
  });
  try {
    return (await reader.readToEnd(() => undefined)).records;
  } finally {
    await reader.close();
  }
}

export async function readPipelineLag(driver: KafkaDriver, prefix: string): Promise<PipelineLag> {
  const topics = topicNames(prefix);
  try {
    const [dedup, count, persist] = await Promise.all([
      behind(driver, prefix, 'dedup', topics.votes),
      behind(driver, prefix, 'count', topics.votesAccepted),
      behind(driver, prefix, 'persist', topics.votesAccepted),
    ]);
    return { dedup, count, persist };
  } catch (err) {
    throw readFailure('the consumer groups of the pipeline', err);
  }
}
