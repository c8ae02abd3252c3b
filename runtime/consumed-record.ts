import type { Headers } from '../topology/record.js';
import { NO_HEADERS, type ConsumedRecord, type RecordHeaders } from './kafka/driver.js';
import type { RawRecord } from './raw-record.js';

const EMPTY_HEADERS: Headers = Object.freeze({});

/**
 * The list each consumed record's headers object was made from. Processors see a name -> value
 * object, which cannot hold a repeated name twice; what is written back (outputs that carry the
 * record's headers on, dead letters) is this list, so headers leave as they came: in order, repeated
 * names and all. Keyed by the object itself, so headers a processor builds anew are written as they are.
 */
const wireHeaders = new WeakMap<Headers, RecordHeaders>();

/**
 * A driver record as the tasks see it: number offset (safe below 2^53) and headers as a record
 * (for a repeated header name, the last value wins, as Kafka Streams' `lastHeader`). Every name is a
 * plain data property, `__proto__` included (an assignment would set the object's prototype instead),
 * and the object is frozen: its list (see headerEntries) must stay what it describes.
 */
export function toRawRecord(r: ConsumedRecord): RawRecord {
  return { topic: r.topic, partition: r.partition, offset: Number(r.offset), timestamp: r.timestamp, key: r.key, value: r.value, headers: headersOf(r.headers) };
}

/** The processors' view of a header list (see toRawRecord), written back as that very list. */
export function headersOf(list: RecordHeaders): Headers {
  if (list.length === 0) return EMPTY_HEADERS;
  const out: Record<string, Buffer> = {};
  for (const [name, value] of list) Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  const headers = Object.freeze(out);
  wireHeaders.set(headers, list);
  return headers;
}

/**
 * The headers as the driver writes them: a consumed record's own headers exactly as they were
 * consumed, others as their entries; a shared empty list (nobody writes to a record's headers) when
 * there are none.
 */
export function headerEntries(headers: Headers): RecordHeaders {
  const wire = wireHeaders.get(headers);
  if (wire !== undefined) return wire;
  for (const name in headers) if (Object.hasOwn(headers, name)) return Object.entries(headers);
  return NO_HEADERS;
}
