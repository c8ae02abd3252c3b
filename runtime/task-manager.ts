import type { Registry } from 'prom-client';
import type { Sink } from '../topology/sink.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { TaskStore } from '../statestores/store-stack.js';
import type { Serde } from '../topology/serdes/serde.js';
import { changelogTopicName as changelogTopic } from '../statestores/changelogging-store.js';
import type { SubTopologySpec } from '../topology/topology-spec.js';
import type { Clock } from './clock.js';
import { VotestreamError } from './errors.js';
import type { GroupConsumer, KafkaDriver, ProducerRecord, TopicPartition } from './kafka/driver.js';
import type { KafkaRecordCollector, ProducedSinceCommit } from './kafka-record-collector.js';
import type { Logger } from './logger.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import type { StreamsConfig } from './streams-config.js';
import type { StreamTask } from './stream-task.js';
import { createActiveTask } from './active-task-creator.js';

export interface ActiveTask {
  readonly partition: number;
  readonly task: StreamTask;
  readonly stores: readonly { readonly spec: { name: string; logged: boolean; serde: Serde<unknown> | undefined }; readonly store: TaskStore<unknown> }[];
  readonly sinks: readonly Sink<unknown, unknown>[];
  dirty: boolean;
  readonly produced: ProducedSinceCommit;
}

export interface TaskManagerOptions {
  readonly config: StreamsConfig;
  readonly sub: SubTopologySpec;
  readonly driver: KafkaDriver;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly globalStores: ReadonlyMap<string, KeyValueStore<unknown>>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The thread's name, for messages. */
  readonly name: string;
  readonly sourceTopics: readonly string[];
  readonly collector: KafkaRecordCollector;
  /** The thread's group member, undefined while it has none. */
  readonly consumer: () => GroupConsumer | undefined;
  /** Drops every uncommitted effect of the thread (transaction, buffers, offsets, store write buffers). */
  readonly dropUncommitted: (reason: string) => Promise<void>;
  /** Before these partitions' tasks open: the commit strategy's producers for them (CommitStrategy.openPartitions). */
  readonly openPartitions: (partitions: readonly number[]) => Promise<void>;
  /** These partitions were revoked and their tasks closed. */
  readonly closePartitions: (partitions: readonly number[]) => Promise<void>;
}

/** What the tasks sealed for one commit: changelog records and where they go, and which tasks took part. */
export interface SealedTasks {
  readonly changelogRecords: readonly ProducerRecord[];
  readonly changelogTopics: ReadonlySet<string>;
  readonly changelogCounts: ReadonlyMap<number, number>;
  /** Every open task at the seal: whether its stores were sealed (dirty), and the records it produced. */
  readonly tasks: readonly { readonly active: ActiveTask; readonly produced: number; readonly dirty: boolean }[];
}

const pkey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Owns a thread's tasks, one per assigned partition: creates, restores, closes and reopens them on
 * rebalances, group generation changes and recovery, and runs their part of each commit.
 */
export class TaskManager {
  readonly #o: TaskManagerOptions;
  readonly #log: Logger;
  readonly #tasks = new Map<number, ActiveTask>();
  readonly #openingSinks = new Set<Sink<unknown, unknown>>();
  /** The group generation the open tasks belong to. */
  #generation: number | undefined;
  /** Set after a failure the thread recovers from in place: every task is reopened from committed state after the next poll. */
  #reopen = false;
  /** An error raised inside a rebalance callback, rethrown after poll() returns (a throwing callback would break the consumer). */
  #deferred: unknown;

  constructor(options: TaskManagerOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  get size(): number {
    return this.#tasks.size;
  }

  get partitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  get(partition: number): ActiveTask | undefined {
    return this.#tasks.get(partition);
  }

  has(partition: number): boolean {
    return this.#tasks.has(partition);
  }

  values(): IterableIterator<ActiveTask> {
    return this.#tasks.values();
  }

  /** Every sink open or still opening: stop() closes them to end retries through an outage. */
  sinks(): Sink<unknown, unknown>[] {
    return [...this.#openingSinks, ...[...this.#tasks.values()].flatMap((t) => t.sinks)];
  }

  /**
   * After a failure recovered in place: closed now, so that their LevelDB locks are free for
   * whoever owns them next; reopened after the next poll, which brings the assignment up to date first.
   */
  async closeForRecovery(reason: string): Promise<void> {
    await this.closeAll(reason);
    this.#reopen = true;
  }

  /** The member is gone: the next one starts a generation of its own. */
  forgetGeneration(): void {
    this.#generation = undefined;
  }

  throwDeferred(): void {
    if (this.#deferred === undefined) return;
    const err = this.#deferred;
    this.#deferred = undefined;
    throw err;
  }

  /**
   * Runs after every poll, before its records are processed. True when the tasks were reopened:
   * then this poll's records are dropped, and positions come from committed state.
   */
  async afterPoll(): Promise<boolean> {
    if (this.#reopen) {
      this.#reopen = false;
      await this.#reopenAll('recovery');
      this.#generation = this.#currentGeneration() ?? this.#generation;
      return true;
    }
    return this.#generationChanged();
  }

  /** Drops the tasks' share of uncommitted work: production counts and store write buffers. */
  dropUncommitted(): void {
    for (const t of this.#tasks.values()) {
      t.produced.count = 0;
      t.produced.bytes.clear();
      for (const { store } of t.stores) store.abort();
    }
  }

  /**
   * The tasks' part of starting a commit: flushes the dirty tasks' sinks, seals their stores'
   * writes and collects the changelog records, and hands over what they produced. From here on
   * the tasks take new work, which belongs to the next commit.
   */
  async seal(): Promise<SealedTasks> {
    const { config, sub } = this.#o;
    for (const t of this.#tasks.values()) if (t.dirty) await t.task.commit();
    const changelogRecords: ProducerRecord[] = [];
    const changelogCounts = new Map<number, number>();
    const tasks: { active: ActiveTask; produced: number; dirty: boolean }[] = [];
    for (const t of this.#tasks.values()) {
      if (t.dirty) {
        for (const { spec, store } of t.stores) {
          const records = store.seal();
          if (!spec.logged) continue;
          const topic = changelogTopic(config.applicationId, spec.name);
          for (const c of records) {
            changelogRecords.push({
              topic,
              partition: t.partition,
              key: Buffer.from(c.key),
              value: c.value === null ? null : serializeChangelogValue(spec.serde, topic, c.value),
            });
          }
          if (records.length > 0) changelogCounts.set(t.partition, (changelogCounts.get(t.partition) ?? 0) + records.length);
        }
      }
      tasks.push({ active: t, produced: t.produced.count, dirty: t.dirty });
      t.dirty = false;
      t.produced.count = 0;
      t.produced.bytes.clear();
    }
    const changelogTopics = new Set(sub.stores.filter((s) => s.logged).map((s) => changelogTopic(config.applicationId, s.name)));
    return { changelogRecords, changelogTopics, changelogCounts, tasks };
  }

  /**
   * After Kafka holds the sealed batch for good, and only then, does LevelDB get it (DESIGN
   * section 4, step 3). A task closed in between is skipped: its store dropped the batch and
   * restores it from the changelog when it opens again.
   */
  async completeSealed(sealed: SealedTasks, changelogNext: ReadonlyMap<number, bigint>): Promise<void> {
    for (const { active, produced, dirty } of sealed.tasks) {
      if (this.#tasks.get(active.partition) !== active) continue;
      if (dirty) {
        for (const { spec, store } of active.stores) await store.commit(spec.logged ? changelogNext.get(active.partition) : undefined);
      }
      if (produced > 0) this.#o.metrics.recordsOut.inc({ task: active.task.id }, produced);
    }
  }

  onRevoked(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#inCallback(async () => {
      // The work since the last commit belongs to the old generation: it cannot be committed now, so
      // it is dropped, and every task (kept or not) restarts from the committed offsets.
      const revoked = new Set(partitions.map((p) => p.partition));
      this.#log.info({ revoked: [...revoked].sort((a, b) => a - b) }, 'partitions revoked');
      await this.#o.dropUncommitted('revocation');
      const kept = [...this.#tasks.keys()].filter((p) => !revoked.has(p));
      await this.closeAll('revoked');
      await this.#o.closePartitions([...revoked]);
      if (kept.length > 0) await this.#openTasks(kept);
    });
  }

  onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#inCallback(async () => {
      this.#o.metrics.rebalances.inc({ subtopology: String(this.#o.sub.id) });
      const fresh = [...new Set(partitions.map((p) => p.partition))].filter((p) => !this.#tasks.has(p)).sort((a, b) => a - b);
      this.#log.info({ assigned: fresh, generation: this.#o.consumer()?.groupMetadata().generationId }, 'partitions assigned');
      await this.#openTasks(fresh);
    });
  }

  async closeAll(reason: string): Promise<void> {
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

  /**
   * Rebalance callbacks run inside poll(); one that throws leaves the consumer unusable, so a
   * failure here is kept and rethrown once poll() returns, where the thread recovers in place.
   */
  async #inCallback(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.#deferred ??= err;
      this.#reopen = true;
    }
  }

  /** Drops uncommitted work and reopens every partition the member owns, from committed state. */
  async #reopenAll(reason: string): Promise<void> {
    await this.#o.dropUncommitted(reason);
    const owned = new Set(this.#tasks.keys());
    try {
      for (const tp of this.#o.consumer()!.assignment()) owned.add(tp.partition);
    } catch {
      // no assignment yet
    }
    await this.closeAll(reason);
    const partitions = [...owned].sort((a, b) => a - b);
    if (partitions.length > 0) await this.#openTasks(partitions);
  }

  /**
   * Eager safety: a new group generation may hide a round trip of our partitions through another
   * member (we were kicked out while paused, or missed a rebalance), and the driver reports only
   * the partitions that changed. So on any new generation every task is reopened: uncommitted work
   * is dropped, stores catch up with their changelogs (which that other member may have written),
   * positions come from the committed offsets, and the records of this poll are discarded.
   */
  #currentGeneration(): number | undefined {
    try {
      return this.#o.consumer()!.groupMetadata().generationId;
    } catch {
      return undefined; // no assignment yet
    }
  }

  async #generationChanged(): Promise<boolean> {
    const generation = this.#currentGeneration();
    if (generation === undefined) return false;
    const before = this.#generation;
    this.#generation = generation;
    if (before === undefined || before === generation) return false;
    this.#log.info({ from: before, to: generation, partitions: this.partitions }, 'group generation changed: reopening every task from committed state');
    await this.#reopenAll('new generation');
    return true;
  }

  /**
   * Opens tasks in the order DESIGN section 4 demands: first wait until no transaction holds
   * offsets of these partitions (require_stable: a previous owner's last commit has landed or
   * aborted; without KIP-447 the partitions' own producers, created first, end that transaction), only then restore the stores from their changelogs, then set the positions. Restoring
   * before the wait could miss the previous owner's last changelog records while the offsets read
   * afterwards already skip the inputs that made them.
   */
  async #openTasks(partitions: readonly number[]): Promise<void> {
    const consumer = this.#o.consumer()!;
    const tps = partitions.flatMap((partition) => this.#o.sourceTopics.map((topic) => ({ topic, partition })));
    await this.#o.openPartitions(partitions);
    const committed = new Map((await consumer.committed(tps)).map((c) => [pkey(c.topic, c.partition), c.offset]));
    const sinkResume = new Map<number, bigint | undefined>();
    for (const partition of partitions) {
      const { active, resume } = await createActiveTask(this.#o, partition, this.#openingSinks);
      this.#tasks.set(partition, active);
      sinkResume.set(partition, resume);
    }
    const fromCommitted: TopicPartition[] = [];
    const rewind: TopicPartition[] = [];
    for (const tp of tps) {
      const start = { committed: committed.get(pkey(tp.topic, tp.partition)) ?? null, sinkResume: sinkResume.get(tp.partition) };
      if (start.committed === null || start.sinkResume === undefined || (start.sinkResume >= 0n && start.sinkResume >= start.committed)) {
        if (start.committed === null) fromCommitted.push(tp);
        else consumer.seek({ ...tp, offset: start.committed });
      } else {
        rewind.push(tp);
      }
    }
    // No committed offset: the reset policy decides (the sinks' fences skip what they hold).
    if (fromCommitted.length > 0) await consumer.seekToCommitted(fromCommitted);
    if (rewind.length > 0) await this.#rewindToSinks(rewind, committed, sinkResume);
  }

  /**
   * A sink's own store is behind what the group committed: it lost state (Redis restarted empty
   * or rolled back, a table gone). Replay from where the store really is; the fences skip what it
   * still holds (DESIGN section 4: a sink never continues over lost state). What Kafka no longer
   * holds cannot be replayed: then the thread stops loudly rather than count on from a gap.
   */
  async #rewindToSinks(tps: readonly TopicPartition[], committed: ReadonlyMap<string, bigint | null>, resume: ReadonlyMap<number, bigint | undefined>): Promise<void> {
    const admin = this.#o.driver.createAdmin({ clientId: `${this.#o.config.applicationId}-rewind` });
    let beginnings: Map<string, bigint>;
    try {
      beginnings = new Map((await admin.beginningOffsets([...new Set(tps.map((tp) => tp.topic))])).map((o) => [pkey(o.topic, o.partition), o.offset]));
    } finally {
      await admin.close().catch(() => undefined);
    }
    for (const tp of tps) {
      const key = pkey(tp.topic, tp.partition);
      const begin = beginnings.get(key) ?? 0n;
      const sink = resume.get(tp.partition)!;
      const from = sink < 0n ? begin : sink;
      if (from < begin) {
        throw new VotestreamError(
          'SINK_STATE_UNRECOVERABLE',
          `a sink of ${this.#o.name} holds ${tp.topic}[${tp.partition}] only up to offset ${from - 1n}, but the topic now starts at ${begin}: the records in between are gone from Kafka and cannot be replayed; rebuild the sink's store from its other copy`,
        );
      }
      this.#log.warn({ topic: tp.topic, partition: tp.partition, committed: String(committed.get(key)), from: String(from) }, 'sink store is behind the committed offset (lost state): replaying from where it is');
      this.#o.metrics.sinkReplays.inc({ subtopology: String(this.#o.sub.id) });
      this.#o.consumer()!.seek({ ...tp, offset: from });
    }
  }
}

function serializeChangelogValue(serde: Serde<unknown> | undefined, topic: string, value: unknown): Buffer | null {
  if (serde !== undefined) return serde.serialize(topic, value);
  return Buffer.from(JSON.stringify(value));
}
