import type { TopologyGraph } from './internal/topology-graph.js';
import { KTable } from './ktable.js';
import { aggregateProcessor, type Fold } from './operators/aggregate.js';
import { nullKeyFilterProcessor } from './operators/null-key-filter.js';
import type { MaterializedOptions } from './options.js';
import type { Serde } from './serdes/serde.js';
import { timestampedSerde, type ValueAndTimestamp } from './serdes/timestamped-serde.js';

/** @internal How a KStream was grouped. */
export interface Grouping<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V> | undefined;
  /** Route through a repartition topic first, so that each key lands in one task. */
  readonly repartition: boolean;
  /** Names the repartition topic (`<name>-repartition`) and its nodes. */
  readonly name: string | undefined;
}

/**
 * Kafka's KGroupedStream. Keys are strings because they are the keys of the backing KeyValueStore.
 * count, reduce and aggregate are one fold processor over a named store.
 */
export class KGroupedStream<K extends string, V> {
  readonly #graph: TopologyGraph;
  readonly #node: string;
  readonly #grouping: Grouping<K, V>;
  /** The repartition source of a named grouping, once an aggregation created it. */
  #repartitionSource: string | undefined;

  /** @internal */
  constructor(graph: TopologyGraph, node: string, grouping: Grouping<K, V>) {
    this.#graph = graph;
    this.#node = node;
    this.#grouping = grouping;
  }

  /**
   * Counts the records of each key; records with a null value are skipped (and counted as
   * dropped), as in Kafka Streams.
   */
  count(materialized?: MaterializedOptions<number>): KTable<K, number> {
    // Kafka Streams' count(Materialized) spends one more index when the store is unnamed (kept
    // there for compatibility with its older topologies); count() does not.
    if (materialized !== undefined && materialized.name === undefined) this.#graph.spendIndex();
    return this.#fold<number>('KSTREAM-AGGREGATE', (_k, _v, previous) => (previous ?? 0) + 1, materialized);
  }

  /** Combines the values of each key; the first value is the initial aggregate. Null values are skipped. */
  reduce(reducer: (aggregate: V, value: V) => V, materialized?: MaterializedOptions<V>): KTable<K, V> {
    return this.#fold<V>(
      'KSTREAM-REDUCE',
      (_k, value, previous) => (previous === undefined ? value : reducer(previous, value)),
      materialized,
      this.#grouping.value,
    );
  }

  /** Folds the values of each key into an aggregate started by `initializer`. Null values are skipped. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    materialized?: MaterializedOptions<VA>,
  ): KTable<K, VA> {
    return this.#fold<VA>(
      'KSTREAM-AGGREGATE',
      (key, value, previous) => aggregator(key, value, previous === undefined ? initializer() : previous),
      materialized,
    );
  }

  /**
   * Kafka Streams' order of names (KGroupedStreamImpl, GroupedStreamAggregateBuilder): the store
   * (unless named), the aggregation processor, then the repartition's sink, filter and source.
   */
  #fold<VA>(
    prefix: 'KSTREAM-AGGREGATE' | 'KSTREAM-REDUCE',
    fold: Fold<K, V, VA>,
    materialized: MaterializedOptions<VA> | undefined,
    knownValueSerde?: Serde<VA>,
  ): KTable<K, VA> {
    const graph = this.#graph;
    const { key, value, repartition, name } = this.#grouping;
    const storeName = materialized?.name ?? graph.newName(`${prefix}-STATE-STORE`);
    const node = graph.newName(prefix);
    let parent = this.#node;
    if (repartition) {
      const names = graph.repartitionNames(name ?? storeName);
      // A named grouping has one repartition topic, however many aggregations read it (Kafka Streams).
      if (name === undefined || this.#repartitionSource === undefined) {
        graph.addProcessor(names.filter, [parent], nullKeyFilterProcessor());
        graph.addTopicSink({ name: names.sink, topic: names.topic, internal: true, keySerde: key, valueSerde: value, parents: [names.filter] });
        graph.addSource({
          name: names.source,
          topics: [names.topic],
          internal: true,
          keySerde: key,
          valueSerde: value,
          // Written by this topology with these serdes: a failure here is a bug, not bad input.
          onDeserializationError: 'fail',
          deadLetterTopic: undefined,
        });
        this.#repartitionSource = names.source;
      }
      parent = this.#repartitionSource;
    }
    const valueSerde = materialized?.valueSerde ?? knownValueSerde;
    // The store keeps each aggregate with its timestamp; its changelog writes both (timestampedSerde).
    graph.addStore({ name: storeName, logged: materialized?.logged ?? true, valueSerde: timestampedSerde(valueSerde) as Serde<unknown> });
    graph.addProcessor(node, [parent], aggregateProcessor<K, V, VA>(storeName, fold), [storeName]);
    // Joins read the table through this getter: the store keeps ValueAndTimestamp, joins see the value.
    const getter = { store: storeName, view: (_key: K, stored: unknown) => (stored as ValueAndTimestamp<VA> | undefined)?.value };
    return new KTable<K, VA>(graph, node, storeName, { key, value: valueSerde }, getter);
  }
}
