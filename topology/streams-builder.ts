import { GlobalKTable } from './global-ktable.js';
import { TopologyGraph } from './internal/topology-graph.js';
import { KStream } from './kstream.js';
import type { GlobalTableOptions, SourceOptions, StoreOptions } from './options.js';
import type { Topology } from './topology.js';
import type { Serde } from './serdes/serde.js';
import { TopologyError } from './topology-error.js';
import type { GlobalStoreMerge } from './topology-spec.js';

const POLICIES = new Set(['dead-letter', 'fail', 'skip-and-log']);

/** Entry point of the DSL, as in Kafka Streams. Building does no I/O. */
export class StreamsBuilder {
  readonly #graph = new TopologyGraph();

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
