import type { TopologyGraph } from './internal/topology-graph.js';
import { KStream, type KnownSerdes } from './kstream.js';
import { mapProcessor } from './operators/map.js';
import type { Named } from './options.js';

/** The result of an aggregation: a changelog of the latest value per key, kept in a named store. */
export class KTable<K extends string, V> {
  readonly #graph: TopologyGraph;
  readonly #node: string;
  readonly #serdes: KnownSerdes<K, V>;
  /** The store holding the table; read it with `TopologyTestDriver.getKeyValueStore`. */
  readonly queryableStoreName: string;

  /** @internal */
  constructor(graph: TopologyGraph, node: string, storeName: string, serdes: KnownSerdes<K, V>) {
    this.#graph = graph;
    this.#node = node;
    this.#serdes = serdes;
    this.queryableStoreName = storeName;
  }

  /** Every update of the table, as a stream. */
  toStream(named?: Named): KStream<K, V> {
    const name = this.#graph.nameOrGenerate(named?.name, 'KTABLE-TOSTREAM');
    this.#graph.addProcessor(name, [this.#node], mapProcessor<K, V, K, V>((record) => record));
    return new KStream<K, V>(this.#graph, name, this.#serdes, false);
  }
}
