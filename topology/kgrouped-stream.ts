import type { TopologyGraph } from './internal/topology-graph.js';
import { KTable } from './ktable.js';
import { aggregateProcessor, type Fold } from './operators/aggregate.js';
import type { MaterializedOptions } from './options.js';
import type { Serde } from './serdes/serde.js';

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

  /** @internal */
  constructor(graph: TopologyGraph, node: string, grouping: Grouping<K, V>) {
    this.#graph = graph;
    this.#node = node;
    this.#grouping = grouping;
  }

  count(materialized?: MaterializedOptions<number>): KTable<K, number> {
    return this.#fold<number>('KSTREAM-AGGREGATE', (_k, _v, previous) => (previous ?? 0) + 1, materialized);
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized?: MaterializedOptions<V>): KTable<K, V> {
    return this.#fold<V>(
      'KSTREAM-REDUCE',
      (_k, value, previous) => (previous === undefined ? value : reducer(previous, value)),
      materialized,
      this.#grouping.value,
    );
  }

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

  #fold<VA>(
    prefix: 'KSTREAM-AGGREGATE' | 'KSTREAM-REDUCE',
    fold: Fold<K, V, VA>,
    materialized: MaterializedOptions<VA> | undefined,
    knownValueSerde?: Serde<VA>,
  ): KTable<K, VA> {
    const graph = this.#graph;
    const { key, value, repartition, name } = this.#grouping;
    const storeName = materialized?.name ?? graph.newName(`${prefix}-STATE-STORE`);
    let parent = this.#node;
    if (repartition) {
      const topic = `${name ?? storeName}-repartition`;
      const sinkName = name === undefined ? graph.newName('KSTREAM-SINK') : `${name}-repartition-sink`;
      const sourceName = name === undefined ? graph.newName('KSTREAM-SOURCE') : `${name}-repartition-source`;
      graph.addTopicSink({ name: sinkName, topic, internal: true, keySerde: key, valueSerde: value, parents: [parent] });
      graph.addSource({
        name: sourceName,
        topics: [topic],
        internal: true,
        keySerde: key,
        valueSerde: value,
        // Written by this topology with these serdes: a failure here is a bug, not bad input.
        onDeserializationError: 'fail',
        deadLetterTopic: undefined,
      });
      parent = sourceName;
    }
    const valueSerde = materialized?.valueSerde ?? knownValueSerde;
    graph.addStore({ name: storeName, logged: materialized?.logged ?? true, valueSerde });
    const node = graph.newName(prefix);
    graph.addProcessor(node, [parent], aggregateProcessor<K, V, VA>(storeName, fold), [storeName]);
    return new KTable<K, VA>(graph, node, storeName, { key, value: valueSerde });
  }
}
