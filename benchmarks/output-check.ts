/**
 * Checks a finished dedup run record by record (read_committed, to the end): `votes-accepted` holds
 * exactly the first vote of every (election, voter) pair, once each, and `votes-rejected` holds
 * exactly the duplicates, each with reason `duplicate`. Throws, with what differs, when not.
 */
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import { topicNames } from '../voting/topics.js';
import { BenchmarkError } from './errors.js';

export interface OutputCounts {
  readonly accepted: number;
  readonly rejected: number;
}

/** Reads a topic to its end (read_committed), handing each value on; returns the record count. */
export async function readTopic(driver: KafkaDriver, topic: string, partitions: number, onValue: (value: Buffer | null) => void): Promise<number> {
  const reader = await driver.createReader({
    partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    isolation: 'read_committed',
    clientId: 'votestream-bench-check',
    maxBytes: 32 * 1024 * 1024,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  try {
    const { records } = await reader.readToEnd((batch) => {
      for (const r of batch) onValue(r.value);
    }, { timeoutMs: 300_000 });
    return records;
  } finally {
    await reader.close();
  }
}

export async function checkDedupOutputs(o: {
  readonly driver: KafkaDriver;
  readonly prefix: string;
  readonly partitions: number;
  /** `electionId:voterId` -> voteId of its first vote. */
  readonly firstVoteIds: ReadonlyMap<string, string>;
  readonly duplicates: number;
}): Promise<OutputCounts> {
  const topics = topicNames(o.prefix);
  const problems: string[] = [];
  const seen = new Set<string>();
  let wrongVote = 0;
  let repeated = 0;
  const accepted = await readTopic(o.driver, topics.votesAccepted, o.partitions, (value) => {
    const v = JSON.parse(value?.toString('utf8') ?? 'null') as { electionId: string; voterId: string; voteId: string };
    const key = `${v.electionId}:${v.voterId}`;
    if (o.firstVoteIds.get(key) !== v.voteId) wrongVote++;
    if (seen.has(key)) repeated++;
    seen.add(key);
  });
  let notDuplicate = 0;
  const rejected = await readTopic(o.driver, topics.votesRejected, o.partitions, (value) => {
    const v = JSON.parse(value?.toString('utf8') ?? 'null') as { reason?: string };
    if (v.reason !== 'duplicate') notDuplicate++;
  });
  if (accepted !== o.firstVoteIds.size) problems.push(`votes-accepted holds ${accepted} records, expected ${o.firstVoteIds.size} (distinct voters)`);
  if (seen.size !== o.firstVoteIds.size) problems.push(`votes-accepted holds ${seen.size} distinct voters, expected ${o.firstVoteIds.size}`);
  if (wrongVote > 0) problems.push(`${wrongVote} accepted votes are not their voter's first vote`);
  if (repeated > 0) problems.push(`${repeated} voters were accepted more than once`);
  if (rejected !== o.duplicates) problems.push(`votes-rejected holds ${rejected} records, expected ${o.duplicates} (duplicates)`);
  if (notDuplicate > 0) problems.push(`${notDuplicate} rejections have a reason other than "duplicate"`);
  if (problems.length > 0) throw new BenchmarkError('BENCHMARK_OUTPUT', `dedup output is NOT exact (prefix ${o.prefix}):\n  - ${problems.join('\n  - ')}`);
  return { accepted, rejected };
}
