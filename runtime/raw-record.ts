import type { Headers } from '../topology/record.js';

/** A record as consumed from Kafka, before deserialization. Offsets are numbers (safe below 2^53). */
export interface RawRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
}
