/** Record conversion shared by the idempotent and the transactional producer. */
import type { Producer as PltProducer } from '@platformatic/kafka';
import type { ProduceResult, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { partitionForKey } from '../../partitioner.js';
import { sortTps } from './helpers.js';

/**
 * Resolves every record's partition: an explicit one is checked against the topic's partition count, a
 * keyed record gets the Java-compatible `partitionForKey` (runtime/partitioner.ts), a record without key
 * and partition is left to the library's round-robin. Its own key partitioner (checked in
 * @platformatic/kafka 1.35.0) is not Java-compatible: `murmur2(key) >>> 0` where Java masks the sign bit.
 */
export async function toProduceMessages(client: PltProducer, records: readonly ProducerRecord[]) {
  const topics = [...new Set(records.filter((r) => r.partition !== undefined || r.key !== null).map((r) => r.topic))];
  const md = topics.length > 0 ? await client.metadata({ topics }) : null;
  return records.map((r) => {
    let partition = r.partition;
    const count = md?.topics.get(r.topic)?.partitionsCount;
    if (partition !== undefined) {
      if (!Number.isInteger(partition) || partition < 0 || count === undefined || partition >= count) {
        throw new KafkaDriverError(`partition ${partition} does not exist in topic ${r.topic} (${count ?? 0} partitions)`);
      }
    } else if (r.key !== null) {
      if (count === undefined) throw new KafkaDriverError(`no metadata for topic ${r.topic}`);
      partition = partitionForKey(r.key, count);
    }
    const headers = new Map<Buffer, Buffer>();
    // Distinct Buffer instances as keys: duplicate header names survive the Map.
    for (const [name, value] of r.headers ?? []) headers.set(Buffer.from(name, 'utf8'), value);
    return {
      topic: r.topic,
      ...(partition === undefined ? {} : { partition }),
      key: r.key ?? undefined,
      value: r.value ?? undefined,
      headers,
      ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
    };
  });
}

export function toProduceResult(result: { offsets?: { topic: string; partition: number; offset: bigint }[] }): ProduceResult {
  return { offsets: sortTps((result.offsets ?? []).map(({ topic, partition, offset }) => ({ topic, partition, offset }))) };
}
