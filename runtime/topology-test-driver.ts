import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sink } from '../topology/sink.js';
import { InMemoryKeyValueStore } from '../statestores/in-memory-store.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { LevelDbKeyValueStore } from '../statestores/leveldb-store.js';
import type { Serde } from '../topology/serdes/serde.js';
import { isTimestampedSerde, type ValueAndTimestamp } from '../topology/serdes/timestamped-serde.js';
import type { Topology } from '../topology/topology.js';
import { ManualClock } from './clock.js';
import { ConfigError, VotestreamError } from './errors.js';
import { GlobalStateStore } from './global-state-store.js';
import type { Logger } from './logger.js';
import { partitionForKey } from './partitioner.js';
import type { RawRecord } from './raw-record.js';
import type { OutgoingRecord, RecordCollector } from './record-collector.js';
import { StreamTask } from './stream-task.js';
import { TestInputTopic, TestOutputTopic, type PipedRecord } from './test-topics.js';

export interface TopologyTestDriverOptions {
  /** Prefix of repartition and changelog topics; default `test`. */
  readonly applicationId?: string;
  /** Partitions of every topic, hence tasks per sub-topology; default 1. */
  readonly partitions?: number;
  /** Wall-clock start, and the default timestamp of piped records; default 0. */
  readonly startWallClockMs?: number;
  /** Store implementation; default `memory`. */
  readonly stores?: 'memory' | 'leveldb';
  /** Directory for `leveldb` stores; default a fresh temporary directory, removed on close. */
  readonly stateDir?: string;
  readonly logger?: Logger;
}

/**
 * Runs a topology in-process with no broker, deterministically, on the same StreamTask code as the
 * real runtime. Every topic has `partitions` partitions and keyed records go where Kafka's
 * partitioner would put them (null keys to partition 0). After each piped record the driver
 * processes whatever the topology wrote to topics it reads itself (repartition topics, or a
 * topic that a later sub-topology consumes), fires stream-time punctuations, then commits every
 * task (sinks receive their batches). Operations are serialised: each waits for the previous one.
 */
export class TopologyTestDriver {
  readonly applicationId: string;
  readonly #topology: Topology;
  readonly #partitions: number;
  readonly #storeKind: 'memory' | 'leveldb';
  readonly #clock: ManualClock;
  readonly #logger: Logger | undefined;
  readonly #tasks: StreamTask[] = [];
  /** Per topic, one task list (by partition) per sub-topology reading it. */
  readonly #tasksByTopic = new Map<string, StreamTask[][]>();
  readonly #globals = new Map<string, GlobalStateStore>();
  readonly #stores = new Map<string, KeyValueStore<unknown>>();
  readonly #sinks: Sink<unknown, unknown>[] = [];
  readonly #offsets = new Map<string, number>();
  readonly #captured = new Map<string, RawRecord[]>();
  readonly #inbox: RawRecord[] = [];
  readonly #ready: Promise<void>;
  #stateDir: string | undefined;
  #ownsStateDir = false;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(topology: Topology, options: TopologyTestDriverOptions = {}) {
    this.#topology = topology;
    this.applicationId = options.applicationId ?? 'test';
    this.#partitions = options.partitions ?? 1;
    if (!Number.isInteger(this.#partitions) || this.#partitions < 1) {
      throw new ConfigError(`partitions must be a positive integer, got ${String(options.partitions)}`);
    }
    this.#storeKind = options.stores ?? 'memory';
    if (this.#storeKind !== 'memory' && this.#storeKind !== 'leveldb') {
      throw new ConfigError(`stores must be "memory" or "leveldb", got "${String(options.stores)}"`);
    }
    this.#stateDir = options.stateDir;
    this.#clock = new ManualClock(options.startWallClockMs ?? 0);
    this.#logger = options.logger;
    this.#ready = this.#start();
    // Surfaced by the first operation; not an unhandled rejection in between.
    this.#ready.catch(() => undefined);
  }

  async #start(): Promise<void> {
    if (this.#storeKind === 'leveldb' && this.#stateDir === undefined) {
      this.#stateDir = await mkdtemp(join(tmpdir(), 'votestream-ttd-'));
      this.#ownsStateDir = true;
    }
    for (const spec of this.#topology.globalStores) {
      const store = await this.#openStore(spec.storeName, 'global');
      this.#globals.set(spec.topic, new GlobalStateStore(spec, store, this.#logger));
    }
    const collector: RecordCollector = { send: (record) => this.#collect(record) };
    for (const sub of this.#topology.subTopologies) {
      const tasks: StreamTask[] = [];
      for (let partition = 0; partition < this.#partitions; partition++) {
        const taskId = `${sub.id}_${partition}`;
        const stores = new Map<string, KeyValueStore<unknown>>();
        for (const spec of sub.stores) stores.set(spec.name, await this.#openStore(spec.name, taskId));
        for (const name of sub.globalStores) stores.set(name, this.#globalStore(name)!);
        const sinks = new Map<string, Sink<unknown, unknown>>();
        for (const node of sub.nodes) {
          if (node.kind !== 'external-sink') continue;
          const sink = node.sink.create();
          await sink.open({ taskId, partition });
          this.#sinks.push(sink);
          sinks.set(node.name, sink);
        }
        const task = new StreamTask({
          applicationId: this.applicationId,
          subTopology: sub,
          partition,
          stores,
          collector,
          sinks,
          clock: this.#clock,
          logger: this.#logger,
        });
        await task.init();
        tasks.push(task);
        this.#tasks.push(task);
      }
      for (const topic of tasks[0].sourceTopics) this.#tasksByTopic.set(topic, [...(this.#tasksByTopic.get(topic) ?? []), tasks]);
    }
  }

  async #openStore(name: string, taskId: string): Promise<KeyValueStore<unknown>> {
    const store =
      this.#storeKind === 'leveldb'
        ? new LevelDbKeyValueStore<unknown>(name, join(this.#stateDir!, taskId, name))
        : new InMemoryKeyValueStore<unknown>(name);
    await store.open();
    this.#stores.set(`${name}\u0000${taskId}`, store);
    return store;
  }

  #globalStore(name: string): KeyValueStore<unknown> | undefined {
    for (const global of this.#globals.values()) if (global.spec.storeName === name) return global.store;
    return undefined;
  }

  /** Runs operations one at a time, after start-up, so tests may fire several without awaiting. */
  #serial<T>(operation: () => Promise<T>, needsStart = true): Promise<T> {
    const result = this.#queue.then(async () => {
      if (this.#closed) throw new VotestreamError('DRIVER_CLOSED', 'The TopologyTestDriver is closed');
      if (needsStart) await this.#ready;
      return operation();
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #nextOffset(topic: string, partition: number): number {
    const key = `${topic}\u0000${partition}`;
    const offset = this.#offsets.get(key) ?? 0;
    this.#offsets.set(key, offset + 1);
    return offset;
  }

  #partitionOf(key: Buffer | null): number {
    return key === null ? 0 : partitionForKey(key, this.#partitions);
  }

  #capture(topic: string): RawRecord[] {
    let queue = this.#captured.get(topic);
    if (queue === undefined) {
      queue = [];
      this.#captured.set(topic, queue);
    }
    return queue;
  }

  #collect(out: OutgoingRecord): void {
    const partition = out.partition ?? (out.key === null && out.sourcePartition !== undefined ? out.sourcePartition % this.#partitions : this.#partitionOf(out.key));
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.#partitions) {
      throw new ConfigError(`Partition ${partition} of topic "${out.topic}" does not exist (${this.#partitions} partitions)`);
    }
    const record: RawRecord = {
      topic: out.topic,
      partition,
      offset: this.#nextOffset(out.topic, partition),
      timestamp: out.timestamp,
      key: out.key,
      value: out.value,
      headers: out.headers,
    };
    this.#capture(out.topic).push(record);
    if (this.#tasksByTopic.has(out.topic) || this.#globals.has(out.topic)) this.#inbox.push(record);
  }

  /** Processes queued records until the topology stops feeding itself, then commits every task. */
  async #drain(): Promise<void> {
    for (let record = this.#inbox.shift(); record !== undefined; record = this.#inbox.shift()) {
      await this.#globals.get(record.topic)?.update(record);
      for (const tasks of this.#tasksByTopic.get(record.topic) ?? []) {
        const task = tasks[record.partition];
        await task.process(record);
        await task.punctuate('stream-time');
      }
    }
    for (const task of this.#tasks) await task.commit();
  }

  #pipe(topic: string, piped: PipedRecord): Promise<void> {
    return this.#serial(async () => {
      const partition = this.#partitionOf(piped.key);
      this.#inbox.push({
        topic,
        partition,
        offset: this.#nextOffset(topic, partition),
        timestamp: piped.timestamp ?? this.#clock.nowMs(),
        key: piped.key,
        value: piped.value,
        headers: piped.headers,
      });
      await this.#drain();
    });
  }

  /** A topic the topology reads (a source or global table topic). */
  createInputTopic<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    const readable = [
      ...this.#topology.subTopologies.flatMap((sub) =>
        sub.nodes.flatMap((n) => (n.kind === 'source' && !n.internal ? n.topics : [])),
      ),
      ...this.#topology.globalStores.map((g) => g.topic),
    ];
    if (!readable.includes(name)) {
      throw new ConfigError(`Topic "${name}" is not read by the topology (it reads: ${readable.join(', ')})`);
    }
    return new TestInputTopic(name, keySerde, valueSerde, (piped) => this.#pipe(name, piped));
  }

  /** Any topic the topology writes, repartition (`<applicationId>-...-repartition`) and DLQ topics included. */
  createOutputTopic<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(name, keySerde, valueSerde, this.#capture(name));
  }

  /**
   * A store by name: a global store, or a task's local store. With more than one partition, say
   * which task's store (by partition).
   */
  getKeyValueStore<V>(name: string, partition?: number): Promise<KeyValueStore<V>> {
    return this.#serial(async () => {
      const { store, timestamped } = this.#localOrGlobalStore(name, partition);
      // An aggregation's store keeps values with their timestamps; this view shows the values
      // (Kafka's TopologyTestDriver does the same for a timestamped store).
      return (timestamped ? plainValueView(store as KeyValueStore<ValueAndTimestamp<unknown>>) : store) as KeyValueStore<V>;
    });
  }

  /** An aggregation's store as it is: each value with the timestamp of its latest update. */
  getTimestampedKeyValueStore<V>(name: string, partition?: number): Promise<KeyValueStore<ValueAndTimestamp<V>>> {
    return this.#serial(async () => {
      const { store, timestamped } = this.#localOrGlobalStore(name, partition);
      if (!timestamped) throw new ConfigError(`Store "${name}" does not keep timestamps: use getKeyValueStore`);
      return store as KeyValueStore<ValueAndTimestamp<V>>;
    });
  }

  #localOrGlobalStore(name: string, partition: number | undefined): { store: KeyValueStore<unknown>; timestamped: boolean } {
    const global = this.#globalStore(name);
    if (global !== undefined) return { store: global, timestamped: false };
    const sub = this.#topology.subTopologies.find((s) => s.stores.some((store) => store.name === name));
    if (sub === undefined) throw new ConfigError(`The topology has no store named "${name}"`);
    if (partition === undefined && this.#partitions > 1) {
      throw new ConfigError(`Store "${name}" exists once per partition: pass the partition (0..${this.#partitions - 1})`);
    }
    const store = this.#stores.get(`${name}\u0000${sub.id}_${partition ?? 0}`);
    if (store === undefined) throw new ConfigError(`Store "${name}" has no partition ${String(partition)}`);
    return { store, timestamped: isTimestampedSerde(sub.stores.find((s) => s.name === name)!.valueSerde) };
  }

  /**
   * Records the tasks skipped (a null key or value in an aggregation or join), as Kafka Streams'
   * `dropped-records-total` metric.
   */
  droppedRecordsTotal(): number {
    return this.#tasks.reduce((sum, task) => sum + task.droppedRecordsTotal, 0);
  }

  /** Moves the wall clock and fires the wall-clock punctuations now due. */
  advanceWallClockTime(ms: number): Promise<void> {
    return this.#serial(async () => {
      this.#clock.advance(ms);
      for (const task of this.#tasks) {
        await task.punctuate('wall-clock');
        await this.#drain();
      }
    });
  }

  /** Commits, then closes tasks, sinks and stores (and removes a temporary state directory). */
  close(): Promise<void> {
    this.#closing ??= this.#serial(async () => {
      this.#closed = true;
      // A failed start-up still leaves opened stores and sinks to release.
      await this.#ready.catch(() => undefined);
      try {
        for (const task of this.#tasks) await task.commit();
      } finally {
        for (const task of this.#tasks) await task.close();
        for (const sink of this.#sinks) await sink.close();
        for (const store of this.#stores.values()) await store.close();
        if (this.#ownsStateDir && this.#stateDir !== undefined) await rm(this.#stateDir, { recursive: true, force: true });
      }
    }, false);
    return this.#closing;
  }
}

/** The values of a store of ValueAndTimestamp; a value put through it gets no timestamp (-1), as in Kafka. */
function plainValueView<V>(inner: KeyValueStore<ValueAndTimestamp<V>>): KeyValueStore<V> {
  const wrap = (value: V): ValueAndTimestamp<V> => ({ value, timestamp: -1 });
  return {
    name: inner.name,
    open: () => inner.open(),
    close: () => inner.close(),
    get: async (key) => (await inner.get(key))?.value,
    getMany: async (keys) => (await inner.getMany(keys)).map((entry) => entry?.value),
    put: (key, value) => inner.put(key, wrap(value)),
    putAll: (entries) => inner.putAll(entries.map(({ key, value }) => ({ key, value: wrap(value) }))),
    delete: (key) => inner.delete(key),
    range: async function* (options) {
      for await (const { key, value } of inner.range(options)) yield { key, value: value.value };
    },
    approximateCount: () => inner.approximateCount(),
  };
}
