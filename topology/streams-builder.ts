import { GlobalKTable } from './global-ktable.js';
import { TopologyGraph } from './internal/topology-graph.js';
import { KStream } from './kstream.js';
import { KTable } from './ktable.js';
import { ktableSourceProcessor } from './operators/ktable-source.js';
import type { GlobalTableOptions, SourceOptions, StoreOptions, TableOptions } from './options.js';
import { nullableSerde } from './serdes/nullable-serde.js';
import type { Topology } from './topology.js';
import type { Serde } from './serdes/serde.js';
import { TopologyError } from './topology-error.js';
import type { GlobalStoreMerge } from './topology-spec.js';

const POLICIES = new Set(['dead-letter', 'fail', 'skip-and-log']);

/** Entry point of the DSL, as in Kafka Streams. Building does no I/O. */
export class StreamsBuilder {
  readonly #graph = new TopologyGraph();

  /**
   * A stream of the records of one or more topics (Kafka's `StreamsBuilder#stream`), decoded with
   * the given serdes; a record that fails to decode follows `onDeserializationError` (dead-lettered
   * by default). Generated name: `KSTREAM-SOURCE-<n>`.
   *
   * @example
   * const clicks = builder.stream('clicks', { key: Serdes.string(), value: Serdes.json<Click>() });
   */
  stream<K, V>(topics: string | readonly string[], options: SourceOptions<K, V>): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    if (list.length === 0) throw new TopologyError('stream() needs at least one topic');
    const policy = options.onDeserializationError ?? 'dead-letter';
    if (!POLICIES.has(policy)) {
      throw new TopologyError(`Unknown onDeserializationError "${policy}": use dead-letter, fail or skip-and-log`);
    }
    const name = this.#graph.nameOrGenerate(options.name, 'KSTREAM-SOURCE');
    this.#graph.addSource({
      name,
      topics: list,
      internal: false,
      keySerde: options.key,
      valueSerde: options.value,
      onDeserializationError: policy,
      deadLetterTopic: options.deadLetterTopic,
    });
    return new KStream<K, V>(this.#graph, name, { key: options.key, value: options.value }, false);
  }

  /**
   * A topic read as a table (Kafka's `StreamsBuilder#table`): each record is the latest value of
   * its key, kept in a local store (`materialized.name`, default `<topic>-STATE-STORE-<n>`, with a
   * changelog `<applicationId>-<store>-changelog`), one per partition; a tombstone (null value)
   * deletes the key and records with a null key are skipped. Every update is forwarded to the
   * table's operators. Joined with a stream, the topic must be co-partitioned with the stream's.
   * Generated names: `KSTREAM-SOURCE-<n>` and `KTABLE-SOURCE-<n>` (`<name>-source` and `<name>`
   * when named, as in Kafka Streams).
   *
   * @example
   * const users = builder.table('users', { key: Serdes.string(), value: Serdes.json<User>(), materialized: { name: 'users' } });
   * clicks.join(users, (click, user) => ({ ...click, country: user.country }));
   */
  table<K extends string, V>(topic: string, options: TableOptions<K, V>): KTable<K, V, null> {
    if (options.key === undefined || options.value === undefined) {
      throw new TopologyError(`Table on topic "${topic}" needs key and value serdes`);
    }
    const policy = options.onDeserializationError ?? 'dead-letter';
    if (!POLICIES.has(policy)) {
      throw new TopologyError(`Unknown onDeserializationError "${policy}": use dead-letter, fail or skip-and-log`);
    }
    // Kafka Streams' order: the store's name first, then the source and the table source.
    const materialized = options.materialized;
    const storeName = materialized?.name ?? this.#graph.newName(`${topic}-STATE-STORE`);
    // Kafka Streams (InternalStreamsBuilder.table): a named table's source is `<name>-source`, its table source `<name>`.
    const sourceName = this.#graph.suffixedOrGenerate(options.name, '-source', 'KSTREAM-SOURCE');
    const processorName = this.#graph.nameOrGenerate(options.name, 'KTABLE-SOURCE');
    this.#graph.addSource({
      name: sourceName,
      topics: [topic],
      internal: false,
      // Null keys and tombstones are seen before the serdes: the table source skips or applies them.
      keySerde: nullableSerde(options.key) as Serde<unknown>,
      valueSerde: nullableSerde(options.value) as Serde<unknown>,
      onDeserializationError: policy,
      deadLetterTopic: options.deadLetterTopic,
    });
    const valueSerde = materialized?.valueSerde ?? options.value;
    this.#graph.addStore({ name: storeName, logged: materialized?.logged ?? true, valueSerde: valueSerde as Serde<unknown> });
    this.#graph.addProcessor(processorName, [sourceName], ktableSourceProcessor<K, V>(storeName) as never, [storeName]);
    return new KTable<K, V, null>(this.#graph, processorName, storeName, { key: options.key, value: options.value }, undefined, true);
  }

  globalTable<K extends string, V>(topic: string, options: GlobalTableOptions<K, V, V>): GlobalKTable<K, V>;
  globalTable<K extends string, V, VIn>(topic: string, options: GlobalTableOptions<K, V, VIn> & { readonly merge: (stored: V | undefined, incoming: VIn, key: K) => V }): GlobalKTable<K, V>;
  globalTable<K extends string, V, VIn>(topic: string, options: GlobalTableOptions<K, V, VIn>): GlobalKTable<K, V> {
    if (options.key === undefined || options.value === undefined) {
      throw new TopologyError(`Global table on topic "${topic}" needs key and value serdes`);
    }
    const policy = options.onDeserializationError ?? 'fail';
    if (policy !== 'fail' && policy !== 'skip-and-log') {
      throw new TopologyError(`Unknown onDeserializationError "${String(policy)}" for a global table: use fail or skip-and-log`);
    }
    const storeName = options.storeName ?? this.#graph.newName(`${topic}-STATE-STORE`);
    // Kafka Streams: a named global table's source is `<name>-source` and its processor `<name>`.
    const sourceName = this.#graph.suffixedOrGenerate(options.name, '-source', 'KSTREAM-SOURCE');
    const processorName = this.#graph.nameOrGenerate(options.name, 'KTABLE-SOURCE');
    this.#graph.addGlobalStore({
      storeName,
      topic,
      sourceName,
      processorName,
      keySerde: options.key,
      valueSerde: options.value,
      onDeserializationError: policy,
      merge: options.merge as GlobalStoreMerge | undefined,
    });
    // With merge, the store holds V while records decode to VIn: the table's value serde is only
    // a description then, never used to read the store.
    return new GlobalKTable(storeName, topic, options.key, options.value as unknown as Serde<V>);
  }

  /** A key-value store for `process(supplier, name)` and `dedupe({ store: name })`. */
  addStateStore<V>(options: StoreOptions<V>): this {
    if (typeof options.name !== 'string' || options.name.length === 0) {
      throw new TopologyError('A store needs a non-empty name');
    }
    this.#graph.addStore({ name: options.name, logged: options.logged ?? true, valueSerde: options.valueSerde });
    return this;
  }

  /** Validates the graph and returns its immutable description; throws TopologyError. */
  build(): Topology {
    return this.#graph.build();
  }
}
