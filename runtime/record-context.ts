import type { RawRecord } from './raw-record.js';

/**
 * Where a record failed: the task that processed it and the record's place in its topic. The errors
 * of record failures carry it as typed fields (ProcessingFailedError, DeserializationError); the
 * warnings of dead-lettered and skipped records log the same fields (`task`, `topic`, `partition`,
 * `offset`), and a dead-lettered record's headers hold its topic, partition and offset
 * (`source-topic`, `source-partition`, `source-offset`, DESIGN section 3).
 */
export interface RecordContext {
  /** The task: `<subTopologyId>_<partition>`, e.g. "0_3"; `global:<store>` for a global store's updater. */
  readonly taskId: string;
  readonly topic: string;
  readonly partition: number;
  /**
   * The record's offset in its partition. A number, as in RawRecord (exact below 2^53, which no
   * partition reaches); logs and dead-letter headers write it as decimal text.
   */
  readonly offset: number;
}

/** The context of `record` processed by task `taskId`. */
export function recordContext(taskId: string, record: Pick<RawRecord, 'topic' | 'partition' | 'offset'>): RecordContext {
  return { taskId, topic: record.topic, partition: record.partition, offset: record.offset };
}
