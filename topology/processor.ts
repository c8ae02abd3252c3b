import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { RecordMetadata, StreamRecord } from './record.js';

export type PunctuationType = 'stream-time' | 'wall-clock';

/** Called with the time (stream or wall clock) at which the punctuation fired. */
export type Punctuator = (timestampMs: number) => void | Promise<void>;

export interface Cancellable {
  cancel(): void;
}

/**
 * What a processor sees of the task that runs it. `forward` may return a Promise when a downstream
 * node is asynchronous (store access); awaiting it is optional, because the runtime keeps a
 * processor's forwards in order and waits for all of them before the next input record.
 */
export interface ProcessorContext<KOut, VOut> {
  readonly applicationId: string;
  /** `<subTopologyId>_<partition>`, as in Kafka Streams. */
  readonly taskId: string;
  readonly partition: number;
  /** The input record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
  /** To every child, or only to the named one. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void | Promise<void>;
  /**
   * A store this processor was connected to (`process(supplier, 'name')`, or a global store). The
   * value type is the caller's claim; the store does not check it.
   */
  getStateStore<V>(name: string): KeyValueStore<V>;
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /** Highest record timestamp this task has seen; -1 before the first record. */
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
  /**
   * Skips the record being processed, as Kafka Streams' DSL does with a null key or value: logs a
   * warning (node, reason, topic, partition, offset) and counts it in the task's dropped records
   * (Kafka Streams' `dropped-records-total`; `votestream_dropped_records_total` in the runtime).
   */
  recordDropped(reason: string): void;
}

/**
 * One node of a topology. Methods may be synchronous or return a Promise; the task awaits each input
 * record fully, in offset order, before the next one.
 */
export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  process(record: StreamRecord<KIn, VIn>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Builds a fresh processor for every task, so processors may keep per-partition state in fields. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>;
