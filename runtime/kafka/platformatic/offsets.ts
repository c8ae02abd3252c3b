/** Offset look-ups shared by the group consumer, the reader and the admin. */
import type { Admin, Consumer } from '@platformatic/kafka';
import type { IsolationLevel, TopicPartition } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { RETRIABLE_COORDINATOR_IDS, describe, hasAny, kafkaErrorIds } from './error-mapping.js';
import { groupByTopic, isolationCode, sleep, tpKey } from './helpers.js';

/** ListOffsets for the given partitions at a special timestamp (-1 latest, -2 earliest). */
export async function listOffsetsFor(client: Consumer, partitions: readonly TopicPartition[], timestamp: bigint, isolation: IsolationLevel): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (partitions.length === 0) return out;
  const byTopic = groupByTopic(partitions);
  const offsets = await client.listOffsets({
    topics: [...byTopic.keys()],
    partitions: Object.fromEntries(byTopic),
    timestamp,
    isolationLevel: isolationCode(isolation),
  });
  for (const tp of partitions) {
    const offset = offsets.get(tp.topic)?.[tp.partition];
    if (offset === undefined) throw new KafkaDriverError(`no offset listed for ${tpKey(tp)}`);
    out.set(tpKey(tp), offset);
  }
  return out;
}

/** Committed offsets of a group with require_stable (waits while a transaction holding offsets is open). */
export async function committedOffsets(admin: Admin, groupId: string, partitions?: readonly TopicPartition[], timeoutMs = 60_000): Promise<Map<string, bigint>> {
  const deadline = Date.now() + timeoutMs;
  const topics = partitions ? [...groupByTopic(partitions)].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) : null;
  if (topics && topics.length === 0) return new Map();
  for (;;) {
    try {
      const groups = await admin.listConsumerGroupOffsets({ groups: [topics ? { groupId, topics } : groupId], requireStable: true });
      const out = new Map<string, bigint>();
      for (const g of groups) {
        for (const t of g.topics) {
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n) out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.committedOffset);
          }
        }
      }
      return out;
    } catch (error) {
      const ids = kafkaErrorIds(error);
      if (hasAny(ids, ['UNSTABLE_OFFSET_COMMIT', ...RETRIABLE_COORDINATOR_IDS]) && Date.now() < deadline) {
        await sleep(100);
        continue;
      }
      throw new KafkaDriverError(`listing committed offsets of group ${groupId} failed: ${describe(error)}`, { cause: error });
    }
  }
}
