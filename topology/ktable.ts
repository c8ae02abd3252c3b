import type { TopologyGraph } from './internal/topology-graph.js';
import { KStream, type KnownSerdes } from './kstream.js';
import { ktableFilterProcessor } from './operators/ktable-filter.js';
import { ktableMapValuesProcessor } from './operators/ktable-map-values.js';
import { mapProcessor } from './operators/map.js';
import type { TableValueGetter } from './operators/stream-table-join.js';
import type { Named } from './options.js';
import type { ProcessorSupplier } from './processor.js';
import { nullableSerde } from './serdes/nullable-serde.js';

/**
 * Kafka's KTable: a changelog of the latest value per key. Obtained from `StreamsBuilder.table`
 * (a topic read as a table, tombstones delete) or from an aggregation. Keys are strings: they are
 * the keys of the store that materializes it.
 *
 * `T` is `null` when the table's updates can be tombstones (a table read from a topic, a filtered
 * table), `never` when they cannot (an aggregation): `toStream()` gives `KStream<K, V | T>`.
 */
export class KTable<K extends string, V, T extends null = never> {
  readonly #graph: TopologyGraph;
  readonly #node: string;
  readonly #serdes: KnownSerdes<K, V>;
  readonly #getter: TableValueGetter<K, V>;
  readonly #tombstones: boolean;
  /**
   * The store holding the table (read it with `TopologyTestDriver.getKeyValueStore`); undefined for
   * a table derived with `filter` or `mapValues`, which is not materialized (as in Kafka Streams).
   */
  readonly queryableStoreName: string | undefined;

  /** @internal Tables come from StreamsBuilder.table, aggregations and other tables' operators. */
  constructor(
    graph: TopologyGraph,
    node: string,
    storeName: string | undefined,
    serdes: KnownSerdes<K, V>,
    getter?: TableValueGetter<K, V>,
    tombstones = false,
  ) {
    this.#graph = graph;
    this.#node = node;
    this.#serdes = serdes;
    this.#getter = getter ?? { store: storeName!, view: (_key, stored) => stored as V };
    this.#tombstones = tombstones;
    this.queryableStoreName = storeName;
  }

  /** @internal What a stream-table join needs: the graph, the node to share a sub-topology with, the value getter. */
  joinTarget(): { readonly graph: TopologyGraph; readonly node: string; readonly getter: TableValueGetter<K, V> } {
    return { graph: this.#graph, node: this.#node, getter: this.#getter };
  }

  #then<VR, TR extends null>(
    prefix: string,
    named: Named | undefined,
    supplier: ProcessorSupplier<K, V | null, K, VR | null>,
    serdes: KnownSerdes<K, VR>,
    getter: TableValueGetter<K, VR>,
    tombstones: boolean,
  ): KTable<K, VR, TR> {
    const name = this.#graph.nameOrGenerate(named?.name, prefix);
    this.#graph.addProcessor(name, [this.#node], supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>);
    return new KTable<K, VR, TR>(this.#graph, name, undefined, serdes, getter, tombstones);
  }

  /**
   * Keeps the keys whose current value satisfies the predicate. As Kafka Streams' `KTable#filter`
   * (without old values): every update that does not pass is forwarded as a tombstone (null) for
   * its key, so a key that stops passing is deleted downstream; tombstones are never given to the
   * predicate. The result is not materialized; it is read through its parent's store. Generated
   * name: `KTABLE-FILTER-<n>`.
   *
   * @example
   * builder.table('users', { key: Serdes.string(), value: Serdes.json<User>() })
   *   .filter((_id, user) => user.active)
   *   .toStream()
   *   .to('active-users'); // a null value when a user stops being active
   */
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V, null> {
    return this.#filtered(predicate, true, named);
  }

  /**
   * The complement of `filter`: keeps the keys whose value does not satisfy the predicate; the
   * others are forwarded as tombstones. Generated name: `KTABLE-FILTER-<n>`.
   *
   * @example
   * table.filterNot((_id, user) => user.banned);
   */
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V, null> {
    return this.#filtered(predicate, false, named);
  }

  #filtered(predicate: (key: K, value: V) => boolean, keep: boolean, named: Named | undefined): KTable<K, V, null> {
    const parent = this.#getter;
    const getter: TableValueGetter<K, V> = {
      store: parent.store,
      view: (key, stored) => {
        const value = parent.view(key, stored);
        return value === undefined || predicate(key, value) !== keep ? undefined : value;
      },
    };
    return this.#then<V, null>('KTABLE-FILTER', named, ktableFilterProcessor(predicate, keep), this.#serdes, getter, true);
  }

  /**
   * Transforms each value, keeping the key (Kafka's `KTable#mapValues`; the mapper takes the value
   * first, as ValueMapper does). Tombstones stay tombstones and never reach the mapper. The result
   * is not materialized; its value serde is unknown. Generated name: `KTABLE-MAPVALUES-<n>`.
   *
   * @example
   * table.mapValues((user) => user.email).toStream().to('emails', { value: Serdes.nullable(Serdes.string()) });
   */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named): KTable<K, VR, T> {
    const parent = this.#getter;
    const getter: TableValueGetter<K, VR> = {
      store: parent.store,
      view: (key, stored) => {
        const value = parent.view(key, stored);
        return value === undefined ? undefined : mapper(value, key);
      },
    };
    return this.#then<VR, T>('KTABLE-MAPVALUES', named, ktableMapValuesProcessor(mapper), { key: this.#serdes.key }, getter, this.#tombstones);
  }

  /**
   * Every update of the table, as a stream (Kafka's `KTable#toStream`); a deletion arrives as a
   * record with a null value, and the stream's value serde accepts null then. Generated name:
   * `KTABLE-TOSTREAM-<n>`.
   *
   * @example
   * votes.groupByKey().count().toStream().to('counts', { value: Serdes.int32() });
   */
  toStream(named?: Named): KStream<K, V | T> {
    const name = this.#graph.nameOrGenerate(named?.name, 'KTABLE-TOSTREAM');
    this.#graph.addProcessor(name, [this.#node], mapProcessor<K, V, K, V>((record) => record));
    const value = this.#tombstones && this.#serdes.value !== undefined ? nullableSerde(this.#serdes.value) : this.#serdes.value;
    return new KStream<K, V | T>(this.#graph, name, { key: this.#serdes.key, value: value as KnownSerdes<K, V | T>['value'] }, false);
  }
}
