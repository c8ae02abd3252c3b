import type { SinkSupplier } from './sink.js';
import { BranchedKStream } from './branched-kstream.js';
import type { GlobalKTable } from './global-ktable.js';
import type { TopologyGraph } from './internal/topology-graph.js';
import { KGroupedStream } from './kgrouped-stream.js';
import { branchProcessor } from './operators/branch.js';
import { dedupeProcessor } from './operators/dedupe.js';
import { filterProcessor } from './operators/filter.js';
import { flatMapProcessor } from './operators/flat-map.js';
import { globalJoinProcessor } from './operators/global-join.js';
import { mapProcessor } from './operators/map.js';
import { passThroughProcessor } from './operators/pass-through.js';
import { peekProcessor } from './operators/peek.js';
import type { DedupeOptions, GroupedOptions, Named, SinkTopicOptions } from './options.js';
import type { ProcessorSupplier } from './processor.js';
import type { KeyValuePair } from './record.js';
import type { Serde } from './serdes/serde.js';
import { stringSerde } from './serdes/string-serde.js';
import { TopologyError } from './topology-error.js';

/** The serdes a stream's records are known to have; an operator that changes K or V forgets one. */
export interface KnownSerdes<K, V> {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
}

/** What `dedupe` returns: both outcomes as streams. */
export interface DedupedStreams<K, V> {
  readonly accepted: KStream<K, V>;
  readonly duplicates: KStream<K, V>;
}

function isSinkSupplier<K, V>(target: string | SinkSupplier<K, V>): target is SinkSupplier<K, V> {
  return typeof target === 'object' && target !== null && typeof target.create === 'function';
}

/**
 * An unbounded stream of records, as in Kafka Streams. Obtained from `StreamsBuilder.stream`; every
 * operator appends a processor node and returns a new stream typed after it.
 */
export class KStream<K, V> {
  readonly #graph: TopologyGraph;
  readonly #node: string;
  readonly #serdes: KnownSerdes<K, V>;
  /** A key-changing operator ran since the last source: grouping must repartition first. */
  readonly #keyChanged: boolean;

  /** @internal Streams come from StreamsBuilder and from other streams' operators. */
  constructor(graph: TopologyGraph, node: string, serdes: KnownSerdes<K, V>, keyChanged: boolean) {
    this.#graph = graph;
    this.#node = node;
    this.#serdes = serdes;
    this.#keyChanged = keyChanged;
  }

  #then<KR, VR>(
    prefix: string,
    named: Named | undefined,
    supplier: ProcessorSupplier<K, V, KR, VR>,
    serdes: KnownSerdes<KR, VR>,
    keyChanged: boolean,
    stores: readonly string[] = [],
  ): KStream<KR, VR> {
    const name = this.#graph.nameOrGenerate(named?.name, prefix);
    this.#graph.addProcessor(name, [this.#node], supplier, stores);
    return new KStream(this.#graph, name, serdes, keyChanged);
  }

  filter<VF extends V>(predicate: (key: K, value: V) => value is VF, named?: Named): KStream<K, VF>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.#then('KSTREAM-FILTER', named, filterProcessor(predicate, true), this.#serdes, this.#keyChanged);
  }

  filterNot<VF extends V>(predicate: (key: K, value: V) => value is VF, named?: Named): KStream<K, Exclude<V, VF>>;
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>;
  filterNot<VF extends V>(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> | KStream<K, Exclude<V, VF>> {
    // Records passing are those the guard rejected: V without VF.
    const serdes = this.#serdes as KnownSerdes<K, Exclude<V, VF>>;
    const supplier = filterProcessor<K, V>(predicate, false) as ProcessorSupplier<K, V, K, Exclude<V, VF>>;
    return this.#then('KSTREAM-FILTER', named, supplier, serdes, this.#keyChanged);
  }

  map<KR, VR>(mapper: (key: K, value: V) => KeyValuePair<KR, VR>, named?: Named): KStream<KR, VR> {
    const supplier = mapProcessor<K, V, KR, VR>((r) => {
      const out = mapper(r.key, r.value);
      return { key: out.key, value: out.value, timestamp: r.timestamp, headers: r.headers };
    });
    return this.#then('KSTREAM-MAP', named, supplier, {}, true);
  }

  /** Value-only mappers take the value first, as Kafka's ValueMapper does; the key is read-only. */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR> {
    const supplier = mapProcessor<K, V, K, VR>((r) => ({
      key: r.key,
      value: mapper(r.value, r.key),
      timestamp: r.timestamp,
      headers: r.headers,
    }));
    return this.#then('KSTREAM-MAPVALUES', named, supplier, { key: this.#serdes.key }, this.#keyChanged);
  }

  selectKey<KR>(mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V> {
    const supplier = mapProcessor<K, V, KR, V>((r) => ({
      key: mapper(r.key, r.value),
      value: r.value,
      timestamp: r.timestamp,
      headers: r.headers,
    }));
    return this.#then('KSTREAM-KEY-SELECT', named, supplier, { value: this.#serdes.value }, true);
  }

  flatMap<KR, VR>(mapper: (key: K, value: V) => Iterable<KeyValuePair<KR, VR>>, named?: Named): KStream<KR, VR> {
    const supplier = flatMapProcessor<K, V, KR, VR>(function* (r) {
      for (const out of mapper(r.key, r.value)) {
        yield { key: out.key, value: out.value, timestamp: r.timestamp, headers: r.headers };
      }
    });
    return this.#then('KSTREAM-FLATMAP', named, supplier, {}, true);
  }

  flatMapValues<VR>(mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR> {
    const supplier = flatMapProcessor<K, V, K, VR>(function* (r) {
      for (const value of mapper(r.value, r.key)) yield { key: r.key, value, timestamp: r.timestamp, headers: r.headers };
    });
    return this.#then('KSTREAM-FLATMAPVALUES', named, supplier, { key: this.#serdes.key }, this.#keyChanged);
  }

  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.#then('KSTREAM-PEEK', named, peekProcessor(action), this.#serdes, this.#keyChanged);
  }

  /** Kafka's BranchedKStream: `split().branch(p, 'a').branch(q, 'b').defaultBranch()` -> `{ a, b, default }`. */
  split(named?: Named): BranchedKStream<K, V> {
    const name = this.#graph.nameOrGenerate(named?.name, 'KSTREAM-BRANCH');
    return new BranchedKStream<K, V>(
      (routes, defaultChild, children) => {
        this.#graph.addProcessor(name, [this.#node], branchProcessor(routes, defaultChild));
        const streams: Record<string, KStream<K, V>> = {};
        for (const [branch, child] of children) {
          // Kafka Streams spends one index per branch, default branch included, in branch order.
          this.#graph.spendIndex();
          this.#graph.addProcessor(child, [name], passThroughProcessor<K, V>());
          streams[branch] = new KStream(this.#graph, child, this.#serdes, this.#keyChanged);
        }
        return streams;
      },
      name,
    );
  }

  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    if (other.#graph !== this.#graph) throw new TopologyError('Cannot merge streams of two different StreamsBuilders');
    const name = this.#graph.nameOrGenerate(named?.name, 'KSTREAM-MERGE');
    this.#graph.addProcessor(name, [this.#node, other.#node], passThroughProcessor<K, V>());
    const serdes: KnownSerdes<K, V> = {
      key: this.#serdes.key === other.#serdes.key ? this.#serdes.key : undefined,
      value: this.#serdes.value === other.#serdes.value ? this.#serdes.value : undefined,
    };
    return new KStream(this.#graph, name, serdes, this.#keyChanged || other.#keyChanged);
  }

  /** Writes to a topic (serdes default to the stream's known ones) or hands records to an external sink. */
  to(topic: string, options?: SinkTopicOptions<K, V>): void;
  to(sink: SinkSupplier<K, V>, named?: Named): void;
  to(target: string | SinkSupplier<K, V>, options?: SinkTopicOptions<K, V> | Named): void {
    const name = this.#graph.nameOrGenerate(options?.name, 'KSTREAM-SINK');
    if (isSinkSupplier(target)) {
      this.#graph.addExternalSink({ name, sink: target as SinkSupplier<unknown, unknown>, parents: [this.#node] });
      return;
    }
    const produced = (options ?? {}) as SinkTopicOptions<K, V>;
    this.#graph.addTopicSink({
      name,
      topic: target,
      internal: false,
      keySerde: produced.key ?? this.#serdes.key,
      valueSerde: produced.value ?? this.#serdes.value,
      parents: [this.#node],
    });
  }

  /** Attaches a custom processor; list the stores (local or global) it opens through its context. */
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...stores: string[]): KStream<KOut, VOut>;
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, named: Named, ...stores: string[]): KStream<KOut, VOut>;
  process<KOut, VOut>(
    supplier: ProcessorSupplier<K, V, KOut, VOut>,
    ...rest: (string | Named)[]
  ): KStream<KOut, VOut> {
    const named = typeof rest[0] === 'object' ? rest[0] : undefined;
    const stores = rest.filter((s): s is string => typeof s === 'string');
    // Kafka Streams' process(supplier, Named) takes the name as is: no index spent, unlike other operators.
    const name = this.#graph.givenOrGenerate(named?.name, 'KSTREAM-PROCESSOR');
    this.#graph.addProcessor(name, [this.#node], supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>, stores);
    return new KStream<KOut, VOut>(this.#graph, name, {}, true);
  }

  /**
   * Passes the first record of each identity (`key`) and remembers it in `store` (added with
   * `StreamsBuilder.addStateStore`); every later record of that identity goes to `duplicates`.
   * The store is partition-local, so the identity must be a function of the record's Kafka key.
   */
  dedupe<S extends {}>(options: DedupeOptions<K, V, S>): DedupedStreams<K, V> {
    const name = this.#graph.nameOrGenerate(options.name, 'KSTREAM-DEDUPE');
    const acceptedChild = `${name}-accepted`;
    const duplicatesChild = `${name}-duplicates`;
    const supplier = dedupeProcessor<K, V, S>({
      store: options.store,
      key: options.key,
      storeValue: options.storeValue,
      acceptedChild,
      duplicatesChild,
    });
    this.#graph.addProcessor(name, [this.#node], supplier, [options.store]);
    const child = (childName: string): KStream<K, V> => {
      this.#graph.addProcessor(childName, [name], passThroughProcessor<K, V>());
      return new KStream(this.#graph, childName, this.#serdes, this.#keyChanged);
    };
    return { accepted: child(acceptedChild), duplicates: child(duplicatesChild) };
  }

  /** Groups by the current key; repartitions first if an operator changed the key. Store keys are strings. */
  groupByKey(this: KStream<string, V>, grouped?: GroupedOptions<string, V>): KGroupedStream<string, V> {
    return new KGroupedStream<string, V>(this.#graph, this.#node, {
      key: grouped?.key ?? this.#serdes.key ?? stringSerde(),
      value: grouped?.value ?? this.#serdes.value,
      repartition: this.#keyChanged,
      name: grouped?.name,
    });
  }

  /** Re-keys and groups; always repartitions through `<applicationId>-<name>-repartition`. */
  groupBy<KR extends string>(selector: (key: K, value: V) => KR, grouped?: GroupedOptions<KR, V>): KGroupedStream<KR, V> {
    // Kafka Streams names the key selector after the grouping when it is named.
    const rekeyed = this.selectKey(selector, grouped?.name === undefined ? undefined : { name: grouped.name });
    return new KGroupedStream<KR, V>(this.#graph, rekeyed.#node, {
      key: grouped?.key ?? (stringSerde() as Serde<KR>),
      value: grouped?.value ?? this.#serdes.value,
      repartition: true,
      name: grouped?.name,
    });
  }

  /** Inner lookup join: records whose table key is absent are dropped. */
  join<GK extends string, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV, key: K) => VR,
    named?: Named,
  ): KStream<K, VR> {
    // Kafka Streams' globalTableJoin uses the KSTREAM-LEFTJOIN prefix for inner joins too.
    return this.#join('KSTREAM-LEFTJOIN', table, keySelector, (v, gv, k) => joiner(v, gv as GV, k), true, named);
  }

  /** Left lookup join: the joiner sees `undefined` when the table has no entry. */
  leftJoin<GK extends string, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV | undefined, key: K) => VR,
    named?: Named,
  ): KStream<K, VR> {
    return this.#join('KSTREAM-LEFTJOIN', table, keySelector, joiner, false, named);
  }

  #join<GK extends string, GV, VR>(
    prefix: string,
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV | undefined, key: K) => VR,
    inner: boolean,
    named: Named | undefined,
  ): KStream<K, VR> {
    const supplier = globalJoinProcessor<K, V, GV, VR>({ store: table.storeName, keySelector, joiner, inner });
    return this.#then(prefix, named, supplier, { key: this.#serdes.key }, this.#keyChanged, [table.storeName]);
  }
}
