import { VotestreamError } from './errors.js';
import type { ProducerRecord } from './kafka/driver.js';

/**
 * Kafka refuses a record batch larger than the topic's `max.message.bytes` (1 MiB by default), and
 * a produce request carries one batch per partition. These bound what one send may hold, so a large
 * commit goes out in several sends of the same transaction instead of failing (and being retried)
 * forever.
 */

/** Batch header (61 bytes in format v2) plus slack for the producer's own framing. */
const BATCH_OVERHEAD = 128;
/** Per-record framing: length, attributes, deltas and header counts as varints (at most ~30 bytes). */
const RECORD_OVERHEAD = 32;

/** An upper bound of the bytes `record` takes in an uncompressed v2 record batch. */
export function recordBytes(record: Pick<ProducerRecord, 'key' | 'value' | 'headers'>): number {
  let size = RECORD_OVERHEAD + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const headers = record.headers;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) size += 10 + Buffer.byteLength(headers[i][0]) + headers[i][1].length;
  }
  return size;
}

/** The largest record that fits a batch of its own under `maxMessageBytes`. */
export function maxRecordBytes(maxMessageBytes: number): number {
  return maxMessageBytes - BATCH_OVERHEAD;
}

/** An output record that no topic with this limit can take: the input that made it is dead-lettered. */
export class RecordTooLargeError extends VotestreamError {
  constructor(topic: string, bytes: number, maxMessageBytes: number) {
    super('RECORD_TOO_LARGE', `a record of ${bytes} bytes for "${topic}" exceeds the ${maxMessageBytes}-byte message limit (max.message.bytes)`);
  }
}

/**
 * Splits records, in order, into sends in which no topic receives more than `maxMessageBytes`.
 * Bounding per topic bounds every partition's batch too, without knowing where keyed records land;
 * order within a partition is kept because chunks are sent one after another.
 *
 * Runs over every record of a commit: chunks are slices (the input itself when it all fits, the
 * usual case), and the running total of the current topic is kept aside from the map, since a
 * commit's records come in runs of one topic. Being the input, a chunk sees later changes to it: pass
 * a list nothing appends to while it is sent (not the collector's live buffer).
 */
export function chunkByTopicBytes(records: readonly ProducerRecord[], maxMessageBytes: number): (readonly ProducerRecord[])[] {
  const budget = maxRecordBytes(maxMessageBytes);
  const chunks: (readonly ProducerRecord[])[] = [];
  const perTopic = new Map<string, number>();
  let start = 0;
  let topic: string | undefined;
  let used = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record.topic !== topic) {
      if (topic !== undefined) perTopic.set(topic, used);
      topic = record.topic;
      used = perTopic.get(topic) ?? 0;
    }
    const size = recordBytes(record);
    if (i > start && used + size > budget) {
      chunks.push(records.slice(start, i));
      start = i;
      perTopic.clear();
      used = 0;
    }
    used += size;
  }
  if (start === 0) {
    if (records.length > 0) chunks.push(records);
  } else {
    chunks.push(records.slice(start));
  }
  return chunks;
}
