import type { Serde } from './serdes/serde.js';

/** Kafka's `Named`: give a processor a stable name instead of a generated `KSTREAM-...-0000000007`. */
export interface Named {
  readonly name?: string;
}

/**
 * What happens to a source record whose key or value cannot be deserialized:
 * - `dead-letter`: write the original bytes to the dead-letter topic and go on (the default);
 * - `fail`: throw a DeserializationError, stopping the task;
 * - `skip-and-log`: log a warning and go on.
 */
export type DeserializationErrorPolicy = 'dead-letter' | 'fail' | 'skip-and-log';

/** Kafka's `Consumed`, for `StreamsBuilder.stream`. */
export interface SourceOptions<K, V> extends Named {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  readonly onDeserializationError?: DeserializationErrorPolicy;
  /** Defaults to `<source topic>-dlq`. */
  readonly deadLetterTopic?: string;
}

/** Kafka's `Produced`, for `KStream.to(topic)`. Serdes default to the stream's own when known. */
export interface SinkTopicOptions<K, V> extends Named {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
}

/** Kafka's `Grouped`: names the repartition topic and gives its serdes. */
export interface GroupedOptions<K, V> extends Named {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
}

/**
 * Kafka's `Materialized` for an aggregation's store. The serde is for the changelog and for stores
 * that keep bytes; stores fall back to JSON without it.
 */
export interface MaterializedOptions<V> {
  readonly name?: string;
  readonly valueSerde?: Serde<V>;
  /** Back the store with a changelog topic `<applicationId>-<name>-changelog`; default true. */
  readonly logged?: boolean;
}

/** A key-value store added with `StreamsBuilder.addStateStore`, used by `process` and `dedupe`. */
export interface StoreOptions<V> {
  readonly name: string;
  readonly valueSerde?: Serde<V>;
  /** Default true. */
  readonly logged?: boolean;
}

/**
 * `VIn` is what a record of the topic decodes to, `V` what the store keeps per key; they differ only
 * with `merge`.
 */
export interface GlobalTableOptions<K, V, VIn = V> extends Named {
  readonly key: Serde<K>;
  readonly value: Serde<VIn>;
  /**
   * Keeps more than the latest record per key (e.g. every version of an entity): called with the
   * stored value (undefined for a new key) and the decoded record, in topic order; its result is
   * stored. Throwing skips that record, and so is a tombstone skipped (an accumulation is never
   * erased). Without it, the record replaces the stored value and a tombstone deletes it, as in
   * Kafka Streams.
   */
  readonly merge?: (stored: V | undefined, incoming: VIn, key: K) => V;
  /** Defaults to `<topic>-STATE-STORE-<n>`. */
  readonly storeName?: string;
  /**
   * A global table has no task to dead-letter from, so it fails (default) or skips. `fail` stops
   * the app only while the table is first loaded; once following, a bad record is logged, counted
   * and skipped whatever the policy, since stopping there would freeze every later update.
   */
  readonly onDeserializationError?: Exclude<DeserializationErrorPolicy, 'dead-letter'>;
}

export interface DedupeOptions<K, V, S> extends Named {
  /** The identity of a record for deduplication: the store key. */
  readonly key: (key: K, value: V) => string;
  /** Name of a store added with `StreamsBuilder.addStateStore`. */
  readonly store: string;
  /** What to remember of the first record (voting keeps its voteId). */
  readonly storeValue: (key: K, value: V) => S;
}

/**
 * Where the record a sink is writing came from (Kafka's `RecordContext`): topic, partition and
 * offset are undefined for records forwarded from a punctuator.
 */
export interface TopicNameExtractorContext {
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, Buffer>>;
}

/**
 * Kafka's `TopicNameExtractor`, for `KStream.to(extractor)`: the topic each record goes to. The
 * topic is used as returned (no application id prefix) and must already exist: dynamic topics are
 * not created by the runtime, as in Kafka Streams.
 */
export type TopicNameExtractor<K, V> = (key: K, value: V, recordContext: TopicNameExtractorContext) => string;

/** Kafka's `Repartitioned`, for `KStream.repartition`. */
export interface RepartitionedOptions<K, V> extends Named {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
  /**
   * Partitions of the repartition topic; default: those of the topics its reading sub-topology is
   * co-partitioned with, else the largest source topic's. The TopologyTestDriver gives every topic
   * its own `partitions` option instead.
   */
  readonly numberOfPartitions?: number;
}

/** Kafka's `Printed`: where `KStream.print` writes, under which label, in which format. */
export interface PrintedOptions<K, V> extends Named {
  /** A writable stream (default `process.stdout`); each record is written as one line. */
  readonly to?: { write(text: string): unknown };
  /** Writes each line with `logger.info(line)` instead of to a stream. */
  readonly logger?: { info(message: string): unknown };
  /** Default: the processor's name, as in Kafka Streams. */
  readonly label?: string;
  /** Default: `${key}, ${value}` (objects as JSON). */
  readonly mapper?: (key: K, value: V) => string;
}

/** Kafka's `Consumed` plus `Materialized`, for `StreamsBuilder.table`. */
export interface TableOptions<K, V> extends Named {
  readonly key: Serde<K>;
  /** Tombstones (null values) are recognised before this serde is called: it never sees null. */
  readonly value: Serde<V>;
  readonly onDeserializationError?: DeserializationErrorPolicy;
  /** Defaults to `<source topic>-dlq`. */
  readonly deadLetterTopic?: string;
  /** Store of the table; default `<topic>-STATE-STORE-<n>`. `valueSerde` defaults to `value`. */
  readonly materialized?: MaterializedOptions<V>;
}

/** Kafka's `Joined` for a stream-table join: names the join and gives serdes for an automatic repartition. */
export interface JoinedOptions<K, V> extends Named {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
}
