/**
 * Partition choice and record conversion shared by the idempotent and the transactional producer.
 *
 * kafkajs 2.2.4 calls the producer's partitioner for EVERY message (its default partitioner honours
 * `message.partition`), with the topic's partition metadata from the producer's cache. So our partitioner
 * (runtime/partitioner.ts, Java-compatible murmur2) decides everything here, the way ../platformatic/
 * produce.ts does: an explicit partition is checked against the count, a keyed record gets
 * `partitionForKey`, a record with neither key nor partition goes to `sourcePartition % count`, else
 * round-robin. kafkajs' own partitioners never choose, so both drivers put a key on the same partition.
 */
import type { ICustomPartitioner, Message, PartitionerArgs, RecordMetadata } from 'kafkajs';
import type { ProduceResult, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { partitionForKey } from '../../partitioner.js';
import { sortTps } from '../platformatic/helpers.js';
import { toKafkajsHeaders } from './records.js';

/** What the partitioner needs beyond the kafkajs message: the record it was made from. */
const origins = new WeakMap<Message, ProducerRecord>();

/** The partition of `record` in a topic of `count` partitions; `roundRobin` is used for a record with neither key nor partition. */
export function choosePartition(record: ProducerRecord, count: number, roundRobin: () => number): number {
  if (record.partition !== undefined) {
    if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count) {
      throw new KafkaDriverError(`partition ${record.partition} does not exist in topic ${record.topic} (${count} partitions)`);
    }
    return record.partition;
  }
  if (record.key !== null) return partitionForKey(record.key, count);
  if (record.sourcePartition !== undefined) return record.sourcePartition % count;
  return roundRobin() % count;
}

export const votestreamPartitioner: ICustomPartitioner = () => {
  let next = 0;
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    const record = origins.get(message);
    if (!record) throw new KafkaDriverError(`message for ${topic} was not made by toKafkajsMessages`);
    return choosePartition(record, partitionMetadata.length, () => next++);
  };
};

export interface TopicMessages {
  readonly topic: string;
  readonly messages: Message[];
}

/** Groups the records by topic, keeping their order within a topic. */
export function toKafkajsMessages(records: readonly ProducerRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    const m: Message = {
      key: r.key,
      value: r.value,
      headers: toKafkajsHeaders(r.headers),
      timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
    };
    origins.set(m, r);
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push(m);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export function fromRecordMetadata(result: readonly RecordMetadata[]): ProduceResult {
  return { offsets: sortTps(result.map((m) => ({ topic: m.topicName, partition: m.partition, offset: BigInt(m.baseOffset ?? '-1') }))) };
}
