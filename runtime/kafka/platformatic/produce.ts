/** Record conversion shared by the idempotent and the transactional producer. */
import type { MessageToProduce, Producer as PltProducer } from '@platformatic/kafka';
import type { ProduceResult, ProducerRecord, RecordHeaders } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { partitionForKey } from '../../partitioner.js';
import { sortTps } from './helpers.js';

/**
 * Resolves every record's partition: an explicit one is checked against the topic's partition count, a
 * keyed record gets the Java-compatible `partitionForKey` (runtime/partitioner.ts), a record without key
 * and partition is left to the library's round-robin. Its own key partitioner (checked in
 * @platformatic/kafka 1.35.0) is not Java-compatible: `murmur2(key) >>> 0` where Java masks the sign bit.
 *
 * This runs for every output record of a commit, so a record without headers costs one message object
 * (and a BigInt when its timestamp differs from the previous record's). Checked against 1.35.0 (`Producer#send`): `headers` is only read, with
 * `if (message.headers)`, and copied into a Map of its own, so leaving it out for a record without
 * headers produces the same bytes; `partition: undefined` is the same as no partition
 * (`typeof message.partition !== 'number'`), `timestamp: undefined` the same as none (stamped at send).
 */
export async function toProduceMessages(client: PltProducer, records: readonly ProducerRecord[]): Promise<MessageToProduce[]> {
  const topics = new Set<string>();
  let last: string | undefined;
  for (const r of records) {
    if ((r.partition !== undefined || r.key !== null || r.sourcePartition !== undefined) && r.topic !== last) {
      topics.add(r.topic);
      last = r.topic;
    }
  }
  // One lookup per send, never kept across sends: a topic's partition count can grow. With `strict`
  // off (the default) the library validates nothing and answers from its cache (5 s metadataMaxAge)
  // without a round trip; the library resolves its leaders from the same cache.
  const md = topics.size > 0 ? await client.metadata({ topics: [...topics] }) : null;
  const messages: MessageToProduce[] = [];
  let countTopic: string | undefined;
  let count: number | undefined;
  // A commit's records mostly share their timestamps with their neighbours (inputs of the same ms).
  let timestampMs: number | undefined;
  let timestamp: bigint | undefined;
  for (const r of records) {
    let partition = r.partition;
    if (partition !== undefined || r.key !== null || r.sourcePartition !== undefined) {
      if (r.topic !== countTopic) {
        countTopic = r.topic;
        count = md?.topics.get(r.topic)?.partitionsCount;
      }
      if (partition !== undefined) {
        if (!Number.isInteger(partition) || partition < 0 || count === undefined || partition >= count) {
          throw new KafkaDriverError(`partition ${partition} does not exist in topic ${r.topic} (${count ?? 0} partitions)`);
        }
      } else {
        if (count === undefined) throw new KafkaDriverError(`no metadata for topic ${r.topic}`);
        partition = r.key !== null ? partitionForKey(r.key, count) : r.sourcePartition! % count;
      }
    }
    if (r.timestamp !== timestampMs) {
      timestampMs = r.timestamp;
      timestamp = timestampMs === undefined ? undefined : BigInt(timestampMs);
    }
    messages.push({
      topic: r.topic,
      partition,
      key: r.key ?? undefined,
      value: r.value ?? undefined,
      headers: r.headers !== undefined && r.headers.length > 0 ? toHeaderMap(r.headers) : undefined,
      timestamp,
    });
  }
  return messages;
}

/** Encoded header names, shared by records: most records repeat a handful of names. */
const headerNames = new Map<string, Buffer>();
/** Bounds the cache against an application that makes up header names. */
const MAX_CACHED_HEADER_NAMES = 1024;

/**
 * Header names are Map keys by Buffer identity, so a name repeated within one record needs a Buffer
 * of its own or the Map would keep only its last value. The library only reads these Buffers (it
 * copies their bytes into the request), so sharing one across records is safe.
 */
export function toHeaderMap(headers: RecordHeaders): Map<Buffer, Buffer> {
  const out = new Map<Buffer, Buffer>();
  for (const [name, value] of headers) {
    let encoded = headerNames.get(name);
    if (encoded === undefined) {
      encoded = Buffer.from(name, 'utf8');
      if (headerNames.size < MAX_CACHED_HEADER_NAMES) headerNames.set(name, encoded);
    }
    out.set(out.has(encoded) ? Buffer.from(name, 'utf8') : encoded, value);
  }
  return out;
}

export function toProduceResult(result: { offsets?: { topic: string; partition: number; offset: bigint }[] }): ProduceResult {
  return { offsets: sortTps((result.offsets ?? []).map(({ topic, partition, offset }) => ({ topic, partition, offset }))) };
}
