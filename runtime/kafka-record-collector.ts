import { headerEntries } from './consumed-record.js';
import { deadLetterHeaders } from './dead-letter-headers.js';
import type { ProducerRecord } from './kafka/driver.js';
import { maxRecordBytes, RecordTooLargeError, recordBytes } from './produce-limits.js';
import type { OutgoingRecord, RecordCollector } from './record-collector.js';
import type { RawRecord } from './raw-record.js';

export { headerEntries };

/** Records and bytes per topic one task produced since the last commit (metrics count records once committed). */
export interface ProducedSinceCommit {
  /** The task's partition: its records belong to that partition's transaction where there is one per partition. */
  readonly partition: number;
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
  /** The task partition of each pending record, index for index. */
  #pendingTasks: number[] = [];

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

  /** The task partition each pending record came from, index for index. */
  get pendingTasks(): readonly number[] {
    return this.#pendingTasks;
  }

  clear(): void {
    this.#pending = [];
    this.#pendingTasks = [];
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
          sourcePartition: out.sourcePartition,
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
        this.#pendingTasks.push(produced.partition);
      },
    };
  }

  /**
   * Buffers a failed input for its dead-letter topic: its key, value and headers, then why it failed
   * and where it came from (the last `error` header is ours), on its own partition number. A
   * dead letter is never refused for its size: an input near the message limit does not fit again
   * with four headers more, and a refused record would fail every commit of the task, for ever. So
   * when it would not fit, its value is left out (header `value-omitted`: its length in bytes); the
   * input itself stays where `source-topic`, `source-partition` and `source-offset` point.
   */
  deadLetter(raw: RawRecord, topic: string, message: string, produced: ProducedSinceCommit): void {
    const headers = deadLetterHeaders(raw, message);
    let record: ProducerRecord = { topic, key: raw.key, value: raw.value, headers, timestamp: raw.timestamp, sourcePartition: raw.partition };
    if (recordBytes(record) > maxRecordBytes(this.#maxMessageBytes) && raw.value !== null) {
      record = { ...record, value: null, headers: [...headers, ['value-omitted', Buffer.from(String(raw.value.length))]] };
    }
    produced.count++;
    this.#pending.push(record);
    this.#pendingTasks.push(produced.partition);
  }
}
