import type { Headers } from '../topology/record.js';
import { NO_HEADERS, type ProducerRecord, type RecordHeaders } from './kafka/driver.js';
import { maxRecordBytes, RecordTooLargeError, recordBytes } from './produce-limits.js';
import type { OutgoingRecord, RecordCollector } from './record-collector.js';
import type { RawRecord } from './raw-record.js';

/** The headers as the driver takes them; a shared empty list (nobody writes to a record's headers) when there are none. */
export function headerEntries(headers: Headers): RecordHeaders {
  for (const name in headers) if (Object.hasOwn(headers, name)) return Object.entries(headers);
  return NO_HEADERS;
}

/** Records and bytes per topic one task produced since the last commit (metrics count records once committed). */
export interface ProducedSinceCommit {
  count: number;
  readonly bytes: Map<string, number>;
}

/**
 * Buffers a thread's outputs and dead letters until its next commit sends them: one buffer for
 * all its tasks, since one commit (one transaction, in exactly-once mode) carries them all.
 */
export class KafkaRecordCollector {
  readonly #maxMessageBytes: number;
  #pending: ProducerRecord[] = [];

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** What the next commit sends; stays buffered until `clear()`, so a failed commit can still be dropped. */
  get pending(): readonly ProducerRecord[] {
    return this.#pending;
  }

  clear(): void {
    this.#pending = [];
  }

  /** The collector one task writes through, counting what it produced into `produced`. */
  forTask(produced: ProducedSinceCommit): RecordCollector {
    const maxMessageBytes = this.#maxMessageBytes;
    const limit = maxRecordBytes(maxMessageBytes);
    return {
      send: (out: OutgoingRecord) => {
        // One allocation per output record (a commit buffers thousands): no spread for the optional
        // partition (undefined means unset), no entries array for the usual record without headers.
        const record: ProducerRecord = {
          topic: out.topic,
          partition: out.partition,
          key: out.key,
          value: out.value,
          headers: headerEntries(out.headers),
          timestamp: out.timestamp,
        };
        // Refused here, as the input's record error, rather than by the broker for the whole commit.
        const bytes = recordBytes(record);
        if (bytes > limit) throw new RecordTooLargeError(out.topic, bytes, maxMessageBytes);
        produced.count++;
        produced.bytes.set(out.topic, (produced.bytes.get(out.topic) ?? 0) + bytes);
        this.#pending.push(record);
      },
    };
  }

  /** Buffers a failed input for its dead-letter topic, with where it came from and why it failed. */
  deadLetter(raw: RawRecord, topic: string, message: string, produced: ProducedSinceCommit): void {
    produced.count++;
    this.#pending.push({
      topic,
      key: raw.key,
      value: raw.value,
      headers: [
        ['error', Buffer.from(message)],
        ['source-topic', Buffer.from(raw.topic)],
        ['source-partition', Buffer.from(String(raw.partition))],
        ['source-offset', Buffer.from(String(raw.offset))],
      ],
      timestamp: raw.timestamp,
    });
  }
}
