import type { Headers } from '../topology/record.js';
import type { ConsumedRecord } from './kafka/driver.js';
import type { RawRecord } from './raw-record.js';

const EMPTY_HEADERS: Headers = Object.freeze({});

/**
 * A driver record as the tasks see it: number offset (safe below 2^53) and headers as a record
 * (for a repeated header name, the last value wins, as Kafka Streams' `lastHeader`).
 */
export function toRawRecord(r: ConsumedRecord): RawRecord {
  let headers = EMPTY_HEADERS;
  if (r.headers.length > 0) {
    const out: Record<string, Buffer> = {};
    for (const [name, value] of r.headers) out[name] = value;
    headers = out;
  }
  return { topic: r.topic, partition: r.partition, offset: Number(r.offset), timestamp: r.timestamp, key: r.key, value: r.value, headers };
}
