/** Conversion between kafkajs messages and the driver's record representation (driver.ts). */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { NO_HEADERS, type ConsumedRecord, type RecordHeaders } from '../driver.js';

/**
 * kafkajs 2.2.4 keeps headers in an object, both ways: duplicates of a name become an array, in order,
 * but the order across different names is the object's key order (insertion order, except that
 * integer-like names come first). Headers with interleaved names (a, b, a) are written as (a, a, b) by
 * this driver and read back as (a, a, b) from any record; the platformatic driver keeps (a, b, a).
 */
export function fromKafkajsHeaders(headers: IHeaders | undefined): RecordHeaders {
  if (!headers) return NO_HEADERS;
  const out: Array<readonly [string, Buffer]> = [];
  for (const [name, value] of Object.entries(headers)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) {
      // kafkajs' decoder finds `obj['__proto__']` already set (Object.prototype) on a plain object, so a
      // header of that name arrives as [Object.prototype, value]: the prototype is skipped, not a Buffer.
      if (v === undefined) out.push([name, Buffer.alloc(0)]);
      else if (Buffer.isBuffer(v)) out.push([name, v]);
      else if (typeof v === 'string') out.push([name, Buffer.from(v, 'utf8')]);
    }
  }
  return out.length === 0 ? NO_HEADERS : out;
}

export function toKafkajsHeaders(headers: RecordHeaders | undefined): IHeaders | undefined {
  if (!headers || headers.length === 0) return undefined;
  // No prototype: a header named `__proto__` is a header like any other.
  const out = Object.create(null) as Record<string, Buffer[]>;
  for (const [name, value] of headers) (out[name] ??= []).push(value);
  return out;
}

export function fromKafkajsMessage(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers: fromKafkajsHeaders(m.headers),
  };
}

export type { Message };
