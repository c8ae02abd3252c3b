import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Sink } from '../sinks/sink.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { StoreOpenError } from '../statestores/errors.js';
import { createTaskStore, type TaskStore } from '../statestores/store-stack.js';
import type { Serde } from '../topology/serdes/serde.js';
import { changelogTopicName as changelogTopic } from '../statestores/changelogging-store.js';
import { resolveTopic, type SubTopologySpec } from '../topology/topology-spec.js';
import { FencedError, TransactionError } from './kafka/errors.js';
import type {
  ConsumedRecord,
  GroupConsumer,
  KafkaDriver,
  Producer,
  ProducerRecord,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
} from './kafka/driver.js';
import type { Logger } from './logger.js';
import { toRawRecord } from './consumed-record.js';
import type { RawRecord } from './raw-record.js';
import type { OutgoingRecord, RecordCollector } from './record-collector.js';
import { restoreStore } from './restore.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import type { StreamsConfig } from './streams-config.js';
import { StreamTask } from './stream-task.js';

/**
 * How a sub-topology commits:
 * - `transactional`: exactly_once_v2 with Kafka outputs or logged stores: outputs, changelog
 *   records and consumed offsets in one transaction (DESIGN section 4).
 * - `at-least-once`: outputs acknowledged, then offsets committed.
 * - `sink-fenced`: the sub-topology writes only to external sinks, which are exactly-once by their
 *   own fences; consumed offsets are committed after the sinks flushed, with no transaction.
 */
export type CommitMode = 'transactional' | 'at-least-once' | 'sink-fenced';

interface ActiveTask {
  readonly partition: number;
  readonly task: StreamTask;
  readonly stores: readonly { readonly spec: { name: string; logged: boolean; serde: Serde<unknown> | undefined }; readonly store: TaskStore<unknown> }[];
  readonly sinks: readonly Sink<unknown, unknown>[];
  dirty: boolean;
  /** Records this task produced since the last commit (metrics count them once committed). */
  readonly produced: { count: number };
}

export interface StreamThreadOptions {
  readonly config: StreamsConfig;
  readonly sub: SubTopologySpec;
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly globalStores: ReadonlyMap<string, KeyValueStore<unknown>>;
}

const pkey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Runs one sub-topology in this process: one consumer-group member (group
 * `<applicationId>-<first source node name>`), one task per assigned partition, and the commit loop. Each
 * sub-topology has its own group and so its own progress: a slow sink never holds back another.
 */
export class StreamThread {
  readonly name: string;
  readonly groupId: string;
  readonly mode: CommitMode;
  readonly #o: StreamThreadOptions;
  readonly #log: Logger;
  readonly #sourceTopics: string[];
  readonly #tasks = new Map<number, ActiveTask>();
  #consumer: GroupConsumer | undefined;
  #txProducer: TransactionalProducer | undefined;
  #producer: Producer | undefined;
  #pending: ProducerRecord[] = [];
  /** Next offset to consume per topic-partition, for what was processed since the last commit. */
  #offsets = new Map<string, TopicPartitionOffset>();
  #uncommitted = 0;
  #lastCommit = Date.now();
  #stopping = false;
  #running: Promise<void> | undefined;
  #lastLag = 0;
  /** The group generation the open tasks belong to. */
  #generation: number | undefined;
  readonly #openingSinks = new Set<Sink<unknown, unknown>>();

  constructor(options: StreamThreadOptions) {
    this.#o = options;
    const { config, sub } = options;
    // Named after its first source node, not its position, so that a group (and its committed
    // offsets) stays the same when other parts of the topology are added or left out.
    const source = sub.nodes.find((n) => n.kind === 'source');
    this.name = source?.name ?? `sub${sub.id}`;
    this.groupId = `${config.applicationId}-${this.name}`;
    this.#log = options.logger.child({ subtopology: sub.id });
    this.#sourceTopics = sub.sourceTopics.map((t) => resolveTopic(config.applicationId, t, sub.internalTopics.includes(t)));
    const writesKafka = sub.nodes.some((n) => n.kind === 'topic-sink') || sub.stores.some((s) => s.logged);
    this.mode = !writesKafka ? 'sink-fenced' : config.processingGuarantee === 'exactly_once_v2' ? 'transactional' : 'at-least-once';
  }

  get sourceTopics(): readonly string[] {
    return this.#sourceTopics;
  }

  get assignedPartitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  /** Starts the loop; the returned promise settles when the thread stops (rejects on a fatal error). */
  start(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /**
   * Finishes the current batch, commits, closes tasks and leaves the group. A sink that cannot
   * write (its service is down) would retry forever inside the commit: after `graceMs` the sinks
   * are closed, which ends their retries; nothing uncommitted is lost, it is replayed next time.
   */
  async stop(graceMs = 15_000): Promise<void> {
    this.#stopping = true;
    const running = this.#running?.catch(() => undefined);
    if (running === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      running.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.#log.warn({ graceMs }, 'still committing after the grace period; closing the sinks to end their retries');
      const sinks = [...this.#openingSinks, ...[...this.#tasks.values()].flatMap((t) => t.sinks)];
      for (const sink of sinks) await sink.close().catch(() => undefined);
      // A sink whose client call never settles must not keep the process from stopping.
      const ended = await Promise.race([running.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
      if (!ended) this.#log.error('a sink did not end its write after being closed; abandoning this thread');
    }
  }

  async #connect(): Promise<void> {
    const { config, driver } = this.#o;
    if (this.mode === 'transactional') {
      this.#txProducer = await driver.createTransactionalProducer({
        transactionalId: `${config.applicationId}-${this.name}-${config.instanceId}`,
        clientId: `${config.applicationId}-${this.name}`,
      });
    } else if (this.mode === 'at-least-once') {
      this.#producer = await driver.createProducer({ clientId: `${config.applicationId}-${this.name}` });
    }
    this.#consumer = await driver.createGroupConsumer({
      groupId: this.groupId,
      topics: this.#sourceTopics,
      clientId: `${config.applicationId}-${this.name}`,
      sessionTimeoutMs: config.sessionTimeoutMs,
      isolation: 'read_committed',
      autoOffsetReset: 'earliest',
      onRevoked: (partitions) => this.#onRevoked(partitions),
      onAssigned: (partitions) => this.#onAssigned(partitions),
    });
  }

  async #disconnect(): Promise<void> {
    await this.#closeAllTasks('shutdown');
    await this.#consumer?.close().catch((err: unknown) => this.#log.warn({ err }, 'consumer close failed'));
    await this.#txProducer?.close().catch((err: unknown) => this.#log.warn({ err }, 'producer close failed'));
    await this.#producer?.close().catch((err: unknown) => this.#log.warn({ err }, 'producer close failed'));
    this.#consumer = undefined;
    this.#generation = undefined;
    this.#txProducer = undefined;
    this.#producer = undefined;
  }

  async #loop(): Promise<void> {
    let backoffMs = 500;
    while (!this.#stopping) {
      try {
        await this.#connect();
        backoffMs = 500;
        await this.#pollLoop();
        await this.#commit();
        await this.#disconnect();
        return;
      } catch (err) {
        if (!(err instanceof FencedError || err instanceof TransactionError)) {
          await this.#abortAndDrop('error').catch(() => undefined);
          await this.#disconnect();
          throw err;
        }
        // Fenced (a newer generation or producer owns our partitions) or the transaction failed:
        // nothing of it is visible. Drop everything, leave, rejoin, resume from committed offsets.
        this.#log.warn({ err: err.message, kind: err instanceof FencedError ? err.kind : 'transaction' }, 'transaction failed; rejoining');
        this.#o.metrics.aborts.inc({ subtopology: String(this.#o.sub.id), reason: err instanceof FencedError ? `fenced-${err.kind}` : 'transaction' });
        await this.#abortAndDrop('fenced').catch(() => undefined);
        await this.#disconnect();
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }

  async #pollLoop(): Promise<void> {
    const consumer = this.#consumer!;
    const { config } = this.#o;
    while (!this.#stopping) {
      const records = await consumer.poll({ maxWaitMs: Math.min(100, config.commitIntervalMs), maxRecords: config.maxBatchRecords });
      if (await this.#generationChanged()) continue;
      if (records.length > 0) await this.#processBatch(records);
      for (const t of this.#tasks.values()) await t.task.punctuate('wall-clock');
      if (this.#uncommitted > 0 && (Date.now() - this.#lastCommit >= config.commitIntervalMs || this.#uncommitted >= config.maxBatchRecords)) {
        await this.#commit();
      }
      if (Date.now() - this.#lastLag >= config.lagRefreshMs) await this.#refreshLag();
    }
  }

  /**
   * Eager safety: a new group generation may hide a round trip of our partitions through another
   * member (we were kicked out while paused, or missed a rebalance), and the driver reports only
   * the partitions that changed. So on any new generation every task is reopened: uncommitted work
   * is dropped, stores catch up with their changelogs (which that other member may have written),
   * positions come from the committed offsets, and the records of this poll are discarded.
   */
  async #generationChanged(): Promise<boolean> {
    let generation: number;
    try {
      generation = this.#consumer!.groupMetadata().generationId;
    } catch {
      return false; // no assignment yet
    }
    const before = this.#generation;
    this.#generation = generation;
    if (before === undefined || before === generation) return false;
    const partitions = [...this.#tasks.keys()].sort((a, b) => a - b);
    this.#log.info({ from: before, to: generation, partitions }, 'group generation changed: reopening every task from committed state');
    await this.#abortAndDrop('new generation');
    await this.#closeAllTasks('new generation');
    if (partitions.length > 0) await this.#openTasks(partitions);
    return true;
  }

  async #processBatch(records: ConsumedRecord[]): Promise<void> {
    const { metrics } = this.#o;
    const touched = new Set<ActiveTask>();
    for (const r of records) {
      const active = this.#tasks.get(r.partition);
      if (active === undefined) continue; // revoked in between: its records are not ours
      const raw = toRawRecord(r);
      try {
        await active.task.process(raw);
      } catch (err) {
        await this.#onProcessingError(raw, err);
      }
      this.#offsets.set(pkey(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: r.offset + 1n });
      active.dirty = true;
      touched.add(active);
      this.#uncommitted++;
    }
    for (const active of touched) {
      await active.task.punctuate('stream-time');
    }
    for (const [task, n] of countBy(records, (r) => r.partition)) metrics.recordsIn.inc({ task: `${this.#o.sub.id}_${task}` }, n);
  }

  async #onProcessingError(raw: RawRecord, err: unknown): Promise<void> {
    const { config, metrics } = this.#o;
    if (config.processingExceptionHandler === 'fail') throw err;
    const topic = config.processingDeadLetterTopic ?? `${raw.topic}-dlq`;
    const message = err instanceof Error ? err.message : String(err);
    this.#log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, err: message, dlq: topic }, 'processing failed; record dead-lettered');
    this.#pending.push({
      topic,
      key: raw.key,
      value: raw.value,
      headers: [
        ['error', Buffer.from(message)],
        ['source-topic', Buffer.from(raw.topic)],
        ['source-partition', Buffer.from(String(raw.partition))],
        ['source-offset', Buffer.from(String(raw.offset))],
      ],
      timestamp: raw.timestamp,
    });
    metrics.deadLettered.inc({ topic, reason: 'processing' });
  }

  #collector(produced: { count: number }): RecordCollector {
    return {
      send: (out: OutgoingRecord) => {
        produced.count++;
        this.#pending.push({
          topic: out.topic,
          ...(out.partition !== undefined ? { partition: out.partition } : {}),
          key: out.key,
          value: out.value,
          headers: Object.entries(out.headers),
          timestamp: out.timestamp,
        });
      },
    };
  }

  /** One commit of everything processed since the last: see CommitMode. */
  async #commit(): Promise<void> {
    if (this.#uncommitted === 0 && this.#pending.length === 0) return;
    const { sub, metrics } = this.#o;
    const started = process.hrtime.bigint();
    const consumer = this.#consumer!;
    for (const t of this.#tasks.values()) if (t.dirty) await t.task.commit();

    const changelogCounts = new Map<number, number>();
    const records = this.#pending;
    for (const t of this.#tasks.values()) {
      if (!t.dirty) continue;
      for (const { spec, store } of t.stores) {
        if (!spec.logged) continue;
        const topic = changelogTopic(this.#o.config.applicationId, spec.name);
        for (const c of store.pendingChangelog()) {
          records.push({
            topic,
            partition: t.partition,
            key: Buffer.from(c.key),
            value: c.value === null ? null : serializeChangelogValue(spec.serde, topic, c.value),
          });
          changelogCounts.set(t.partition, (changelogCounts.get(t.partition) ?? 0) + 1);
        }
      }
    }
    const offsets = [...this.#offsets.values()];
    let changelogNext = new Map<number, bigint>();

    if (this.mode === 'transactional') {
      const producer = this.#txProducer!;
      await producer.begin();
      try {
        const result = records.length > 0 ? await producer.send(records) : { offsets: [] };
        // +1: the commit marker follows our records, so a clean restart starts past it and reads nothing.
        changelogNext = nextChangelogOffsets(result.offsets, this.#changelogTopics(), changelogCounts, 1n);
        if (offsets.length > 0) await producer.sendOffsets(consumer, offsets);
        await producer.commit();
      } catch (err) {
        throw err instanceof FencedError || err instanceof TransactionError ? err : new TransactionError(`commit failed: ${(err as Error).message}`, { cause: err });
      }
    } else {
      if (records.length > 0) {
        const result = await this.#producer!.send(records);
        changelogNext = nextChangelogOffsets(result.offsets, this.#changelogTopics(), changelogCounts, 0n);
      }
      if (offsets.length > 0) await consumer.commitSync(offsets);
    }

    // Only now, after Kafka holds the batch for good, does LevelDB get it (DESIGN section 4, step 3).
    for (const t of this.#tasks.values()) {
      if (!t.dirty) continue;
      for (const { spec, store } of t.stores) {
        const next = changelogNext.get(t.partition);
        await store.commit(spec.logged ? next : undefined);
      }
      t.dirty = false;
    }
    for (const t of this.#tasks.values()) {
      if (t.produced.count > 0) metrics.recordsOut.inc({ task: t.task.id }, t.produced.count);
      t.produced.count = 0;
    }
    metrics.commits.inc({ subtopology: String(sub.id) });
    metrics.commitLatency.observe({ subtopology: String(sub.id) }, Number(process.hrtime.bigint() - started) / 1e9);
    this.#pending = [];
    this.#offsets = new Map();
    this.#uncommitted = 0;
    this.#lastCommit = Date.now();
  }

  #changelogTopics(): Set<string> {
    return new Set(this.#o.sub.stores.filter((s) => s.logged).map((s) => changelogTopic(this.#o.config.applicationId, s.name)));
  }

  /** Drops every uncommitted effect: the open transaction, buffered outputs, store write buffers. */
  async #abortAndDrop(reason: string): Promise<void> {
    if (this.#txProducer?.inTransaction) {
      await this.#txProducer.abort().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'abort failed'));
    }
    if (this.#pending.length > 0 || this.#uncommitted > 0) {
      this.#log.info({ reason, records: this.#uncommitted }, 'dropped uncommitted work');
    }
    this.#pending = [];
    this.#offsets = new Map();
    this.#uncommitted = 0;
    for (const t of this.#tasks.values()) {
      t.produced.count = 0;
      for (const { store } of t.stores) store.abort();
    }
  }

  async #onRevoked(partitions: readonly TopicPartition[]): Promise<void> {
    // The work since the last commit belongs to the old generation: it cannot be committed now, so
    // it is dropped, and every task (kept or not) restarts from the committed offsets.
    const revoked = new Set(partitions.map((p) => p.partition));
    this.#log.info({ revoked: [...revoked].sort((a, b) => a - b) }, 'partitions revoked');
    await this.#abortAndDrop('revocation');
    const kept = [...this.#tasks.keys()].filter((p) => !revoked.has(p));
    await this.#closeAllTasks('revoked');
    if (kept.length > 0) await this.#openTasks(kept);
  }

  async #onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    this.#o.metrics.rebalances.inc({ subtopology: String(this.#o.sub.id) });
    const fresh = [...new Set(partitions.map((p) => p.partition))].filter((p) => !this.#tasks.has(p)).sort((a, b) => a - b);
    this.#log.info({ assigned: fresh, generation: this.#consumer?.groupMetadata().generationId }, 'partitions assigned');
    await this.#openTasks(fresh);
  }

  async #openTasks(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) this.#tasks.set(partition, await this.#createTask(partition));
    const consumer = this.#consumer!;
    await consumer.seekToCommitted(partitions.flatMap((partition) => this.#sourceTopics.map((topic) => ({ topic, partition }))));
  }

  async #createTask(partition: number): Promise<ActiveTask> {
    const { config, sub, registry, metrics, driver, globalStores } = this.#o;
    const taskId = `${sub.id}_${partition}`;
    const stores: ActiveTask['stores'][number][] = [];
    const storeMap = new Map<string, KeyValueStore<unknown>>();
    for (const spec of sub.stores) {
      const store = createTaskStore<unknown>({
        name: spec.name,
        location: join(config.stateDir, config.applicationId, taskId, spec.name),
        changelog: spec.logged,
        registry,
        taskId,
      });
      await openWhenUnlocked(store, this.#log, config.sessionTimeoutMs * 3);
      if (spec.logged) {
        await restoreStore({
          driver,
          store,
          serde: spec.valueSerde,
          topic: changelogTopic(config.applicationId, spec.name),
          partition,
          taskId,
          metrics,
          logger: this.#log,
        });
      }
      stores.push({ spec: { name: spec.name, logged: spec.logged, serde: spec.valueSerde }, store });
      storeMap.set(spec.name, store.store);
    }
    for (const name of sub.globalStores) storeMap.set(name, globalStores.get(name)!);
    const sinks = new Map<string, Sink<unknown, unknown>>();
    for (const node of sub.nodes) {
      if (node.kind !== 'external-sink') continue;
      const sink = node.sink.create();
      // Known before open() resolves: a sink whose service is down may retry its open until stop() closes it.
      this.#openingSinks.add(sink);
      try {
        await sink.open({ taskId, partition });
      } finally {
        this.#openingSinks.delete(sink);
      }
      sinks.set(node.name, sink);
    }
    const produced = { count: 0 };
    const task = new StreamTask({
      applicationId: config.applicationId,
      subTopology: sub,
      partition,
      stores: storeMap,
      collector: this.#collector(produced),
      sinks,
      logger: this.#log,
    });
    await task.init();
    return { partition, task, stores, sinks: [...sinks.values()], dirty: false, produced };
  }

  async #closeAllTasks(reason: string): Promise<void> {
    const tasks = [...this.#tasks.values()];
    this.#tasks.clear();
    for (const t of tasks) {
      await t.task.close().catch((err: unknown) => this.#log.warn({ err, task: t.task.id }, 'task close failed'));
      for (const { store } of t.stores) {
        store.abort();
        await store.close().catch((err: unknown) => this.#log.warn({ err, store: store.name }, 'store close failed'));
      }
      for (const sink of t.sinks) await sink.close().catch((err: unknown) => this.#log.warn({ err }, 'sink close failed'));
    }
    if (tasks.length > 0) this.#log.info({ reason, tasks: tasks.map((t) => t.task.id) }, 'tasks closed');
  }

  async #refreshLag(): Promise<void> {
    this.#lastLag = Date.now();
    const consumer = this.#consumer;
    if (consumer === undefined || this.#tasks.size === 0) return;
    try {
      const admin = this.#o.driver.createAdmin({ clientId: `${this.#o.config.applicationId}-lag` });
      try {
        const ends = await admin.endOffsets(this.#sourceTopics, 'read_committed');
        for (const end of ends) {
          if (!this.#tasks.has(end.partition)) continue;
          const position = consumer.position(end) ?? end.offset;
          this.#o.metrics.lag.set({ topic: end.topic, partition: String(end.partition) }, Number(end.offset - position));
        }
      } finally {
        await admin.close();
      }
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, 'lag refresh failed');
    }
  }
}

/**
 * Opens a task's store, waiting while another process on the same state directory still holds
 * its LevelDB lock: after a rebalance the new owner can be told before the old one has closed.
 */
async function openWhenUnlocked(store: TaskStore<unknown>, log: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.open();
      return;
    } catch (err) {
      if (!(err instanceof StoreOpenError && err.locked) || Date.now() > deadline) throw err;
      if (attempt === 1) log.info({ store: store.name }, 'store locked by its previous owner; waiting');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function serializeChangelogValue(serde: Serde<unknown> | undefined, topic: string, value: unknown): Buffer | null {
  if (serde !== undefined) return serde.serialize(topic, value);
  return Buffer.from(JSON.stringify(value));
}

/**
 * The changelog offset each task's store reaches with this commit: the batch's base offset plus
 * the records sent to that partition, plus the transaction's commit marker when there is one.
 * Only this task's owner commits to its changelog partition, so nothing committed lies between
 * our records and the marker; anything else there is aborted, invisible to read_committed
 * restores. If the client split a partition's records into several batches, the lowest base is
 * used, which can only lag (harmless: replaying changelog records is idempotent).
 */
function nextChangelogOffsets(
  produced: readonly TopicPartitionOffset[],
  changelogTopics: ReadonlySet<string>,
  counts: ReadonlyMap<number, number>,
  marker: bigint,
): Map<number, bigint> {
  const base = new Map<number, bigint>();
  for (const o of produced) {
    if (!changelogTopics.has(o.topic)) continue;
    const prev = base.get(o.partition);
    if (prev === undefined || o.offset < prev) base.set(o.partition, o.offset);
  }
  const next = new Map<number, bigint>();
  for (const [partition, count] of counts) {
    const b = base.get(partition);
    if (b !== undefined) next.set(partition, b + BigInt(count) + marker);
  }
  return next;
}
