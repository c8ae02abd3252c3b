import type { Headers } from '../topology/record.js';

/** The task a sink instance serves; one instance per (sub-topology, partition). */
export interface SinkTaskInfo {
  readonly taskId: string;
  readonly partition: number;
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
  open(task: SinkTaskInfo): Promise<void>;
  /** Records in input order. Apply atomically with the highest offset, skipping what is fenced. */
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
