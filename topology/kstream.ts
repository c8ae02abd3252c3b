import type { SinkSupplier } from './sink.js';
import { BranchedKStream } from './branched-kstream.js';
import { GlobalKTable } from './global-ktable.js';
import type { TopologyGraph } from './internal/topology-graph.js';
import { KGroupedStream } from './kgrouped-stream.js';
import type { KTable } from './ktable.js';
import { branchProcessor } from './operators/branch.js';
import { dedupeProcessor } from './operators/dedupe.js';
import { filterProcessor } from './operators/filter.js';
import { flatMapProcessor } from './operators/flat-map.js';
import { foreachProcessor } from './operators/foreach.js';
import { globalJoinProcessor } from './operators/global-join.js';
import { mapProcessor } from './operators/map.js';
import { passThroughProcessor } from './operators/pass-through.js';
import { peekProcessor } from './operators/peek.js';
import { printProcessor } from './operators/print.js';
import { streamTableJoinProcessor, type TableValueGetter } from './operators/stream-table-join.js';
import type {
  DedupeOptions,
  GroupedOptions,
  JoinedOptions,
  Named,
  PrintedOptions,
  RepartitionedOptions,
  SinkTopicOptions,
  TopicNameExtractor,
} from './options.js';
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

function isSinkSupplier<K, V>(target: string | TopicNameExtractor<K, V> | SinkSupplier<K, V>): target is SinkSupplier<K, V> {
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

  /**
   * Keeps the records that satisfy the predicate and drops the others (Kafka's `KStream#filter`);
   * stateless, record by record, no repartitioning. A type guard narrows the value type. Generated
   * name: `KSTREAM-FILTER-<n>`.
   *
   * @example
   * clicks.filter((_user, click) => click.page !== '').to('real-clicks');
   */
  filter<VF extends V>(predicate: (key: K, value: V) => value is VF, named?: Named): KStream<K, VF>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.#then('KSTREAM-FILTER', named, filterProcessor(predicate, true), this.#serdes, this.#keyChanged);
  }

  /**
   * Keeps the records that do not satisfy the predicate (Kafka's `KStream#filterNot`); a type guard
   * removes its type from the values. Generated name: `KSTREAM-FILTER-<n>`.
   *
   * @example
   * clicks.filterNot((_user, click) => click.bot).to('human-clicks');
   */
  filterNot<VF extends V>(predicate: (key: K, value: V) => value is VF, named?: Named): KStream<K, Exclude<V, VF>>;
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>;
  filterNot<VF extends V>(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> | KStream<K, Exclude<V, VF>> {
    // Records passing are those the guard rejected: V without VF.
    const serdes = this.#serdes as KnownSerdes<K, Exclude<V, VF>>;
    const supplier = filterProcessor<K, V>(predicate, false) as ProcessorSupplier<K, V, K, Exclude<V, VF>>;
    return this.#then('KSTREAM-FILTER', named, supplier, serdes, this.#keyChanged);
  }

  /**
   * Turns each record into a new key and value (Kafka's `KStream#map`). The key may change, so a
   * later `groupByKey` or stream-table `join` repartitions first; both serdes become unknown (give
   * them to `to`). Generated name: `KSTREAM-MAP-<n>`.
   *
   * @example
   * clicks.map((user, click) => ({ key: click.page, value: user })).to('visitors-by-page', { key: Serdes.string(), value: Serdes.string() });
   */
  map<KR, VR>(mapper: (key: K, value: V) => KeyValuePair<KR, VR>, named?: Named): KStream<KR, VR> {
    const supplier = mapProcessor<K, V, KR, VR>((r) => {
      const out = mapper(r.key, r.value);
      return { key: out.key, value: out.value, timestamp: r.timestamp, headers: r.headers };
    });
    return this.#then('KSTREAM-MAP', named, supplier, {}, true);
  }

  /**
   * Transforms each value and keeps the key, hence the partitioning: no repartition follows (Kafka's
   * `KStream#mapValues`). The mapper takes the value first, as ValueMapper does; the key is
   * read-only. The key serde is kept, the value serde becomes unknown. Generated name:
   * `KSTREAM-MAPVALUES-<n>`.
   *
   * @example
   * clicks.mapValues((click) => click.page).to('pages', { value: Serdes.string() });
   */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR> {
    const supplier = mapProcessor<K, V, K, VR>((r) => ({
      key: r.key,
      value: mapper(r.value, r.key),
      timestamp: r.timestamp,
      headers: r.headers,
    }));
    return this.#then('KSTREAM-MAPVALUES', named, supplier, { key: this.#serdes.key }, this.#keyChanged);
  }

  /**
   * Sets a new key computed from each record, keeping the value (Kafka's `KStream#selectKey`); marks
   * the stream for repartitioning before grouping or a stream-table join. Generated name:
   * `KSTREAM-KEY-SELECT-<n>`.
   *
   * @example
   * clicks.selectKey((_user, click) => click.page).repartition({ key: Serdes.string() });
   */
  selectKey<KR>(mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V> {
    const supplier = mapProcessor<K, V, KR, V>((r) => ({
      key: mapper(r.key, r.value),
      value: r.value,
      timestamp: r.timestamp,
      headers: r.headers,
    }));
    return this.#then('KSTREAM-KEY-SELECT', named, supplier, { value: this.#serdes.value }, true);
  }

  /**
   * Turns each record into zero or more records, each with its own key and value, in iteration
   * order and with the input's timestamp (Kafka's `KStream#flatMap`); marks the stream for
   * repartitioning. Generated name: `KSTREAM-FLATMAP-<n>`.
   *
   * @example
   * orders.flatMap((id, order) => order.items.map((item) => ({ key: item.sku, value: id })));
   */
  flatMap<KR, VR>(mapper: (key: K, value: V) => Iterable<KeyValuePair<KR, VR>>, named?: Named): KStream<KR, VR> {
    const supplier = flatMapProcessor<K, V, KR, VR>(function* (r) {
      for (const out of mapper(r.key, r.value)) {
        yield { key: out.key, value: out.value, timestamp: r.timestamp, headers: r.headers };
      }
    });
    return this.#then('KSTREAM-FLATMAP', named, supplier, {}, true);
  }

  /**
   * Turns each value into zero or more values under the same key (Kafka's `KStream#flatMapValues`);
   * no repartitioning. Generated name: `KSTREAM-FLATMAPVALUES-<n>`.
   *
   * @example
   * sentences.flatMapValues((text) => text.split(' '));
   */
  flatMapValues<VR>(mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR> {
    const supplier = flatMapProcessor<K, V, K, VR>(function* (r) {
      for (const value of mapper(r.value, r.key)) yield { key: r.key, value, timestamp: r.timestamp, headers: r.headers };
    });
    return this.#then('KSTREAM-FLATMAPVALUES', named, supplier, { key: this.#serdes.key }, this.#keyChanged);
  }

  /**
   * Performs an action on each record and forwards it unchanged (Kafka's `KStream#peek`), e.g. to
   * log or count; side effects run again if the record is replayed. Generated name:
   * `KSTREAM-PEEK-<n>`.
   *
   * @example
   * clicks.peek((user) => seen.inc({ user })).to('clicks-out');
   */
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.#then('KSTREAM-PEEK', named, peekProcessor(action), this.#serdes, this.#keyChanged);
  }

  /**
   * Performs an action on each record; terminal: it returns nothing and forwards nothing (Kafka's
   * `KStream#foreach`). The action runs inside the task, once per processing of the record (a
   * replay after a failure runs it again): side effects are at least once. Generated name:
   * `KSTREAM-FOREACH-<n>`.
   *
   * @example
   * stream.foreach((key, value) => metrics.observe(key, value));
   */
  foreach(action: (key: K, value: V) => void, named?: Named): void {
    const name = this.#graph.nameOrGenerate(named?.name, 'KSTREAM-FOREACH');
    this.#graph.addProcessor(name, [this.#node], foreachProcessor(action) as ProcessorSupplier<unknown, unknown, unknown, unknown>);
  }

  /**
   * Prints each record as one line `[label]: key, value`, as Kafka's `KStream#print(Printed)`
   * (terminal): to `process.stdout` by default, to another writable stream (`to`), or through a
   * logger's `info` (`logger`). The label defaults to the processor's name and `mapper` replaces
   * the `key, value` part. Generated name: `KSTREAM-PRINTER-<n>`.
   *
   * @example
   * stream.print({ label: 'clicks' });                        // [clicks]: ana, {"page":"/a"}
   * stream.print({ logger, mapper: (k, v) => `${k} -> ${v.page}` });
   */
  print(options: PrintedOptions<K, V> = {}): void {
    const name = this.#graph.nameOrGenerate(options.name, 'KSTREAM-PRINTER');
    this.#graph.addProcessor(name, [this.#node], printProcessor(options, name) as ProcessorSupplier<unknown, unknown, unknown, unknown>);
  }

  /**
   * Splits the stream by predicates (Kafka's `KStream#split` and BranchedKStream): each record goes
   * to the first branch whose predicate it satisfies, else to the default branch, else nowhere.
   * Branches are named `<split name><branch name>`. Generated name: `KSTREAM-BRANCH-<n>`.
   *
   * @example
   * const { valid, default: invalid } = votes.split({ name: 'votes-' }).branch((_k, v) => v.ok, 'valid').defaultBranch();
   */
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

  /**
   * Merges two streams of one builder into one (Kafka's `KStream#merge`); no ordering between them
   * is promised beyond each one's own. Generated name: `KSTREAM-MERGE-<n>`.
   *
   * @example
   * webClicks.merge(appClicks).to('all-clicks');
   */
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

  /**
   * Routes the stream through a new repartition topic, `<applicationId>-<name>-repartition`, that
   * the runtime creates, and reads it back (Kafka's `KStream#repartition(Repartitioned)`): records
   * land in the partition of their current key, so that later stateful operators and joins see
   * each key in one task. Records with a null key are dropped (Kafka Streams' null-key filter).
   * Serdes default to the stream's known ones; `numberOfPartitions` fixes the topic's size
   * (otherwise it follows the topics it is co-partitioned with, else the largest source topic).
   * Unnamed, the topic is `KSTREAM-REPARTITION-<n>-repartition`; its nodes are named after a
   * given name (`<name>-repartition-sink`, `-filter`, `-source`) or generated.
   *
   * @example
   * clicks
   *   .selectKey((_user, click) => click.page)
   *   .repartition({ name: 'by-page', numberOfPartitions: 6 }) // topic `<app>-by-page-repartition`
   *   .process(countPerPage, 'per-page');
   */
  repartition(options: RepartitionedOptions<K, V> = {}): KStream<K, V> {
    const partitions = options.numberOfPartitions;
    if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
      throw new TopologyError(`repartition() needs a positive integer numberOfPartitions, got ${String(partitions)}`);
    }
    // Kafka Streams: a given name spends no index; the repartition's three nodes always spend theirs.
    const name = this.#graph.givenOrGenerate(options.name, 'KSTREAM-REPARTITION');
    return this.#repartitionAs(name, options.key ?? this.#serdes.key, options.value ?? this.#serdes.value, partitions);
  }

  #repartitionAs(prefix: string, key: Serde<K> | undefined, value: Serde<V> | undefined, numberOfPartitions: number | undefined): KStream<K, V> {
    const graph = this.#graph;
    const names = graph.repartitionNames(prefix);
    graph.addProcessor(names.filter, [this.#node], filterProcessor<K, V>((k) => k !== null && k !== undefined, true) as ProcessorSupplier<unknown, unknown, unknown, unknown>);
    graph.addTopicSink({
      name: names.sink,
      topic: names.topic,
      internal: true,
      numberOfPartitions,
      keySerde: key as Serde<unknown> | undefined,
      valueSerde: value as Serde<unknown> | undefined,
      parents: [names.filter],
    });
    graph.addSource({
      name: names.source,
      topics: [names.topic],
      internal: true,
      keySerde: key as Serde<unknown> | undefined,
      valueSerde: value as Serde<unknown> | undefined,
      // Written by this topology with these serdes: a failure here is a bug, not bad input.
      onDeserializationError: 'fail',
      deadLetterTopic: undefined,
    });
    return new KStream<K, V>(graph, names.source, { key, value }, false);
  }

  /**
   * Writes every record (Kafka's `KStream#to`), terminal. Three targets:
   * - a topic name: serdes default to the stream's known ones (give them after an operator that
   *   changed the key or value type); the partition follows the key (Java-compatible murmur2);
   * - a `TopicNameExtractor` `(key, value, recordContext) => topic`: the topic per record, used as
   *   returned; such topics are not created by the runtime and must exist (as in Kafka Streams);
   * - a `SinkSupplier` (Redis, DynamoDB, ...): records go to that external sink at each commit.
   * Generated name: `KSTREAM-SINK-<n>`.
   *
   * @example
   * clicks.to('clicks-copy');
   * clicks.to((_user, click) => `clicks-${click.region}`, { value: Serdes.json<Click>() });
   */
  to(topic: string, options?: SinkTopicOptions<K, V>): void;
  to(topicExtractor: TopicNameExtractor<K, V>, options?: SinkTopicOptions<K, V>): void;
  to(sink: SinkSupplier<K, V>, named?: Named): void;
  to(target: string | TopicNameExtractor<K, V> | SinkSupplier<K, V>, options?: SinkTopicOptions<K, V> | Named): void {
    const name = this.#graph.nameOrGenerate(options?.name, 'KSTREAM-SINK');
    if (isSinkSupplier(target)) {
      this.#graph.addExternalSink({ name, sink: target as SinkSupplier<unknown, unknown>, parents: [this.#node] });
      return;
    }
    const produced = (options ?? {}) as SinkTopicOptions<K, V>;
    const extractor = typeof target === 'function' ? (target as TopicNameExtractor<unknown, unknown>) : undefined;
    this.#graph.addTopicSink({
      name,
      topic: extractor === undefined ? (target as string) : undefined,
      topicExtractor: extractor,
      internal: false,
      keySerde: produced.key ?? this.#serdes.key,
      valueSerde: produced.value ?? this.#serdes.value,
      parents: [this.#node],
    });
  }

  /**
   * Attaches a custom processor (Kafka's `KStream#process`, the Processor API): `init(context)`,
   * `process(record)`, `close()`; the context forwards, opens the listed stores (local or global)
   * and schedules punctuations. Its output key may differ, so the stream is marked for
   * repartitioning. Generated name: `KSTREAM-PROCESSOR-<n>` (a given name spends no index).
   *
   * @example
   * builder.addStateStore({ name: 'last-seen' });
   * clicks.process(() => new LastSeenProcessor(), 'last-seen');
   */
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

  /**
   * Groups by the current key for an aggregation (Kafka's `KStream#groupByKey`). If an operator
   * changed the key, the records are first repartitioned through
   * `<applicationId>-<name>-repartition`, so that each key lands in one task. Records with a null
   * key are dropped by the aggregation. Store keys are strings.
   *
   * @example
   * votes.groupByKey().count({ name: 'votes-per-voter' });
   */
  groupByKey(this: KStream<string, V>, grouped?: GroupedOptions<string, V>): KGroupedStream<string, V> {
    return new KGroupedStream<string, V>(this.#graph, this.#node, {
      key: grouped?.key ?? this.#serdes.key ?? stringSerde(),
      value: grouped?.value ?? this.#serdes.value,
      repartition: this.#keyChanged,
      name: grouped?.name,
    });
  }

  /**
   * Re-keys with the selector and groups (Kafka's `KStream#groupBy`); always repartitions through
   * `<applicationId>-<name>-repartition` (`name` from `Grouped`, else generated). Records whose
   * selected key is null are dropped.
   *
   * @example
   * clicks.groupBy((_user, click) => click.page, { name: 'by-page' }).count();
   */
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

  /**
   * Joins each record with a table, keeping the stream record's key, timestamp and headers. Two forms:
   *
   * - **With a `KTable`** (`join(table, joiner, joined?)`), as Kafka's `KStream#join(KTable)`: the
   *   record's key is looked up in the table's current state, so the stream and the table must be
   *   co-partitioned (same partition count, same key partitioning: checked when the app starts);
   *   after a key-changing operator the stream is repartitioned first, through
   *   `<applicationId>-<name>-repartition`. Only stream records trigger a join, table updates never
   *   do. Records with a null key or value are dropped, and so are records whose key the table does
   *   not have.
   * - **With a `GlobalKTable`** (`join(table, keySelector, joiner, named?)`): a lookup by the key
   *   the selector computes, in a table every task holds in full (no co-partitioning); records whose
   *   table key is absent are dropped.
   *
   * The joiner takes the stream value first, then the table value, then the read-only key.
   * Generated name: `KSTREAM-JOIN-<n>` (a GlobalKTable join: `KSTREAM-LEFTJOIN-<n>`, as Kafka Streams).
   *
   * @example
   * const users = builder.table('users', { key: Serdes.string(), value: Serdes.json<User>() });
   * clicks.join(users, (click, user) => ({ ...click, country: user.country })).to('enriched-clicks');
   * // With a global table, keyed by anything the record holds:
   * orders.join(products, (_id, order) => order.sku, (order, product) => ({ ...order, price: product.price }));
   */
  join<TV, VR, TT extends null>(
    table: KTable<K & string, TV, TT>,
    joiner: (value: V, tableValue: TV, key: K) => VR,
    joined?: JoinedOptions<K, V>,
  ): KStream<K, VR>;
  join<GK extends string, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV, key: K) => VR,
    named?: Named,
  ): KStream<K, VR>;
  join(
    table: unknown,
    selectorOrJoiner: (...args: never[]) => unknown,
    joinerOrJoined?: ((...args: never[]) => unknown) | JoinedOptions<K, V>,
    named?: Named,
  ): KStream<K, unknown> {
    return this.#joinEither(true, table, selectorOrJoiner, joinerOrJoined, named);
  }

  /**
   * As `join`, but every stream record with a non-null key and value produces an output: the
   * joiner sees `null` (a KTable) or `undefined` (a GlobalKTable) when the table has no value for
   * the key. Generated name: `KSTREAM-LEFTJOIN-<n>`.
   *
   * @example
   * clicks.leftJoin(users, (click, user) => ({ ...click, country: user?.country ?? 'unknown' }));
   */
  leftJoin<TV, VR, TT extends null>(
    table: KTable<K & string, TV, TT>,
    joiner: (value: V, tableValue: TV | null, key: K) => VR,
    joined?: JoinedOptions<K, V>,
  ): KStream<K, VR>;
  leftJoin<GK extends string, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV | undefined, key: K) => VR,
    named?: Named,
  ): KStream<K, VR>;
  leftJoin(
    table: unknown,
    selectorOrJoiner: (...args: never[]) => unknown,
    joinerOrJoined?: ((...args: never[]) => unknown) | JoinedOptions<K, V>,
    named?: Named,
  ): KStream<K, unknown> {
    return this.#joinEither(false, table, selectorOrJoiner, joinerOrJoined, named);
  }

  /** The implementation of both join overloads, for `join` (inner) and `leftJoin`. */
  #joinEither(
    inner: boolean,
    table: unknown,
    selectorOrJoiner: (...args: never[]) => unknown,
    joinerOrJoined: ((...args: never[]) => unknown) | JoinedOptions<K, V> | undefined,
    named: Named | undefined,
  ): KStream<K, unknown> {
    if (table instanceof GlobalKTable) {
      const keySelector = selectorOrJoiner as (key: K, value: V) => string;
      const joiner = joinerOrJoined as (value: V, tableValue: unknown, key: K) => unknown;
      // Kafka Streams' globalTableJoin uses the KSTREAM-LEFTJOIN prefix for inner joins too.
      return this.#join('KSTREAM-LEFTJOIN', table, keySelector, joiner, inner, named);
    }
    const joiner = selectorOrJoiner as (value: V, tableValue: unknown, key: K) => unknown;
    const joined = joinerOrJoined as JoinedOptions<K, V> | undefined;
    return this.#tableJoin(inner ? 'KSTREAM-JOIN' : 'KSTREAM-LEFTJOIN', table as KTable<string, unknown, null>, joiner, inner, joined);
  }

  #tableJoin(
    prefix: string,
    table: KTable<string, unknown, null>,
    joiner: (value: V, tableValue: unknown, key: K) => unknown,
    inner: boolean,
    joined: JoinedOptions<K, V> | undefined,
  ): KStream<K, unknown> {
    const target = table.joinTarget();
    if (target.graph !== this.#graph) throw new TopologyError('Cannot join a stream and a table of two different StreamsBuilders');
    // Kafka Streams' repartitionForJoin: after a key change the stream goes through a repartition
    // topic named after the join (or after the key-changing node), so that it is co-partitioned.
    const stream = this.#keyChanged
      ? this.#repartitionAs(joined?.name ?? this.#node, joined?.key ?? this.#serdes.key, joined?.value ?? this.#serdes.value, undefined)
      : this;
    const name = this.#graph.nameOrGenerate(joined?.name, prefix);
    const supplier = streamTableJoinProcessor<K, V, unknown, unknown>({
      table: target.getter as TableValueGetter<K, unknown>,
      joiner,
      inner,
    });
    this.#graph.addProcessor(name, [stream.#node], supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>, [target.getter.store]);
    // The join reads the table's store: it runs in the table's sub-topology, one task per partition.
    this.#graph.unite(name, target.node);
    return new KStream<K, unknown>(this.#graph, name, { key: stream.#serdes.key }, false);
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
