import type { Headers } from '../topology/record.js';

export interface OutgoingRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  /**
   * Undefined: the collector picks it, with `partitionForKey` (Java-compatible murmur2) for keyed
   * records, `sourcePartition` (modulo the topic's count) for null keys when it is given.
   */
  readonly partition?: number;
  /** The partition of the input this record was made from: where a null-keyed record goes (see ProducerRecord). */
  readonly sourcePartition?: number;
  readonly timestamp: number;
}

/**
 * Where a task's output records go: the real runtime's transactional producer, or the
 * TopologyTestDriver's in-memory topics. The task awaits a returned Promise before going on.
 */
export interface RecordCollector {
  send(record: OutgoingRecord): void | Promise<void>;
}
