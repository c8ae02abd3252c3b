import type { Headers } from './record.js';

/** The task a sink instance serves; one instance per (sub-topology, partition). */
export interface SinkTaskInfo {
  readonly taskId: string;
  readonly partition: number;
}

/**
 * What a sink's own store says about its progress on the task's partition, read at `open()`.
 * Sinks that keep no progress of their own return nothing from `open()`.
 */
export interface SinkProgress {
  /**
   * The highest input offset of this partition whose effects the sink's store holds, or null when
   * it holds none (a fresh store, or one that lost its state). The runtime starts the task at
   * min(the group's committed offset, appliedThrough + 1), from the beginning of the partition for
   * null: what a store lost is replayed, and the fences skip what it still has.
   */
  readonly appliedThrough: number | null;
}

/**
 * One deserialized record handed to a sink, with the coordinates of the input record that produced
 * it: sinks fence on `(partition, offset)` to be exactly-once without a Kafka transaction.
 * Records forwarded from a punctuator have no input record: their offset is -1 and topic ''.
 */
export interface SinkRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: K;
  readonly value: V;
  readonly headers: Headers;
}

/**
 * An external system written from a topology with `KStream.to(sinkSupplier)`. The task buffers the
 * records reaching the sink and calls `write` with them at every commit (and earlier when the
 * buffer is full), then `flush`. Lifecycle: open -> (write* flush)* -> close; the runtime owns it.
 */
export interface Sink<K, V> {
  open(task: SinkTaskInfo): Promise<SinkProgress | void>;
  /**
   * Records in input order. Apply atomically with the highest offset, skipping what is fenced.
   * Retry what is transient; throw `InfrastructureError` (runtime/errors.ts) for a service that
   * refuses or stays down, `SinkStateLostError` when the store lost applied state: the runtime
   * then replays from committed state and never dead-letters the batch.
   */
  write(batch: readonly SinkRecord<K, V>[]): Promise<void>;
  /** The commit hook: after the last `write` of a commit. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Named so that `describe()` can show it; `create` builds one sink per task. */
export interface SinkSupplier<K, V> {
  readonly name: string;
  create(): Sink<K, V>;
}
