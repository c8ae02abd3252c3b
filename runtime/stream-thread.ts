import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Sink, SinkProgress } from '../sinks/sink.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { StoreOpenError } from '../statestores/errors.js';
import { createTaskStore, type TaskStore } from '../statestores/store-stack.js';
import type { Serde } from '../topology/serdes/serde.js';
import { changelogTopicName as changelogTopic } from '../statestores/changelogging-store.js';
import { resolveTopic, type SubTopologySpec } from '../topology/topology-spec.js';
import { isFatalError, isInfrastructureError } from './error-kinds.js';
import { VotestreamError } from './errors.js';
import { FencedError, KafkaDriverError, TransactionError } from './kafka/errors.js';
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
import { chunkByTopicBytes, maxRecordBytes, RecordTooLargeError, recordBytes } from './produce-limits.js';
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
  /** Records and bytes per topic this task produced since the last commit (metrics count records once committed). */
  readonly produced: { count: number; readonly bytes: Map<string, number> };
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
  /** Set after a failure the thread recovers from in place: every task is reopened from committed state before the next poll. */
  #reopen = false;
  /** An error raised inside a rebalance callback, rethrown after poll() returns (a throwing callback would break the consumer). */
  #deferred: unknown;
  /** False from a failure until the thread commits again or polls with nothing to commit. */
  #healthy = false;
  #lastError: string | undefined;
  /** When the running commit started (0 = none): a commit stuck on a sink's outage makes the thread not ready. */
  #commitStarted = 0;
  /** Failures since the last successful commit: the backoff grows with them. */
  #failures = 0;
  readonly #stopSignal = new AbortController();

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

  /**
   * Ready = connected, no recovery under way, and no commit stuck for longer than the session
   * timeout (a sink retrying through its service's outage). `reason` says why not.
   */
  readiness(): { readonly ready: boolean; readonly reason?: string } {
    if (this.#consumer === undefined) return { ready: false, reason: this.#lastError ?? 'connecting' };
    if (!this.#healthy) return { ready: false, reason: this.#lastError ?? 'starting' };
    if (this.#commitStarted > 0 && Date.now() - this.#commitStarted > this.#o.config.sessionTimeoutMs) {
      return { ready: false, reason: `commit running for ${Date.now() - this.#commitStarted} ms (a sink retrying through an outage?)` };
    }
    return { ready: true };
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
    this.#stopSignal.abort();
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

  /** Creates what is missing: the producer (dropped after a producer fence) and the group member (dropped after a Kafka failure). */
  async #connect(): Promise<void> {
    const { config, driver } = this.#o;
    if (this.mode === 'transactional' && this.#txProducer === undefined) {
      this.#txProducer = await driver.createTransactionalProducer({
        transactionalId: `${config.applicationId}-${this.name}-${config.instanceId}`,
        clientId: `${config.applicationId}-${this.name}`,
      });
    } else if (this.mode === 'at-least-once' && this.#producer === undefined) {
      this.#producer = await driver.createProducer({ clientId: `${config.applicationId}-${this.name}` });
    }
    if (this.#consumer !== undefined) return;
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
    await this.#closeProducers();
    this.#consumer = undefined;
    this.#generation = undefined;
  }

  async #closeProducers(): Promise<void> {
    await this.#txProducer?.close().catch((err: unknown) => this.#log.warn({ err }, 'producer close failed'));
    await this.#producer?.close().catch((err: unknown) => this.#log.warn({ err }, 'producer close failed'));
    this.#txProducer = undefined;
    this.#producer = undefined;
  }

  /**
   * Runs until stopped, riding out every failure but the fatal ones (DESIGN section 4): nothing
   * uncommitted survives a failure, and what is rebuilt depends on what failed.
   * - a group fence: the member stays in the group (leaving would start yet another rebalance that
   *   fences other members mid-commit); its tasks reopen from committed state;
   * - a producer fence or a transaction that cannot be aborted: a new producer, tasks reopened;
   * - Kafka unreachable or the membership broken: a new member after a backoff;
   * - a sink, store or other failure: tasks reopened after a backoff, the member kept.
   * The backoff grows while failures repeat and resets only after a commit goes through, so an
   * outage of any length is waited out without a hot loop.
   */
  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#connect();
        await this.#pollLoop();
        await this.#commit();
        await this.#disconnect();
        return;
      } catch (err) {
        if (this.#stopping && this.#consumer === undefined) break;
        if (isFatalError(err)) {
          await this.#abortAndDrop('fatal error').catch(() => undefined);
          await this.#disconnect();
          throw err;
        }
        const kind = failureKind(err);
        const message = err instanceof Error ? err.message : String(err);
        this.#healthy = false;
        this.#lastError = `${kind}: ${message}`;
        const attempt = this.#failures++;
        this.#log.warn({ err: message, kind, attempt }, kind === 'group' || kind === 'producer' ? 'transaction fenced; recovering' : 'failure; recovering from committed state');
        this.#o.metrics.aborts.inc({ subtopology: String(this.#o.sub.id), reason: kind === 'group' || kind === 'producer' ? `fenced-${kind}` : kind });
        await this.#abortAndDrop(kind).catch(() => undefined);
        if (kind === 'producer' || (err instanceof TransactionError && !err.abortable)) await this.#closeProducers();
        if (kind === 'kafka') {
          await this.#disconnect();
        } else {
          // Closed now, so that their LevelDB locks are free for whoever owns them next; reopened
          // after the next poll, which brings the assignment up to date first.
          await this.#closeAllTasks(kind);
          this.#reopen = true;
        }
        // A group fence needs no wait: the rebalance that caused it is already under way.
        if (kind !== 'group') await this.#sleep(retryDelay(attempt, this.#o.config.maxRetryBackoffMs));
      }
    }
    await this.#disconnect();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stopSignal.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      this.#stopSignal.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  async #pollLoop(): Promise<void> {
    const consumer = this.#consumer!;
    const { config } = this.#o;
    while (!this.#stopping) {
      const records = await consumer.poll({ maxWaitMs: Math.min(100, config.commitIntervalMs), maxRecords: config.maxBatchRecords });
      this.#throwDeferred();
      if (this.#reopen) {
        // After a failure: this poll's records are dropped, positions come from committed state.
        this.#reopen = false;
        await this.#reopenAll('recovery');
        this.#generation = this.#currentGeneration() ?? this.#generation;
        continue;
      }
      if (await this.#generationChanged()) continue;
      if (records.length > 0) await this.#processBatch(records);
      for (const t of this.#tasks.values()) await t.task.punctuate('wall-clock');
      if (this.#uncommitted > 0 && (Date.now() - this.#lastCommit >= config.commitIntervalMs || this.#uncommitted >= config.maxBatchRecords)) {
        await this.#commit();
      }
      if (this.#uncommitted === 0 && this.#pending.length === 0) {
        // Nothing to commit and the poll went through: caught up, so healthy again.
        this.#healthy = true;
        this.#lastError = undefined;
      }
      if (Date.now() - this.#lastLag >= config.lagRefreshMs) await this.#refreshLag();
    }
  }

  #throwDeferred(): void {
    if (this.#deferred === undefined) return;
    const err = this.#deferred;
    this.#deferred = undefined;
    throw err;
  }

  /** Drops uncommitted work and reopens every partition the member owns, from committed state. */
  async #reopenAll(reason: string): Promise<void> {
    await this.#abortAndDrop(reason);
    const owned = new Set(this.#tasks.keys());
    try {
      for (const tp of this.#consumer!.assignment()) owned.add(tp.partition);
    } catch {
      // no assignment yet
    }
    await this.#closeAllTasks(reason);
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
      return this.#consumer!.groupMetadata().generationId;
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
    this.#log.info({ from: before, to: generation, partitions: [...this.#tasks.keys()].sort((a, b) => a - b) }, 'group generation changed: reopening every task from committed state');
    await this.#reopenAll('new generation');
    return true;
  }

  async #processBatch(records: ConsumedRecord[]): Promise<void> {
    const { metrics, config } = this.#o;
    const touched = new Set<ActiveTask>();
    for (const r of records) {
      const active = this.#tasks.get(r.partition);
      if (active === undefined) continue; // revoked in between: its records are not ours
      const raw = toRawRecord(r);
      try {
        await active.task.process(raw);
      } catch (err) {
        if (isInfrastructureError(err) || isFatalError(err)) throw err;
        this.#onProcessingError(raw, err, active);
      }
      this.#offsets.set(pkey(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: r.offset + 1n });
      active.dirty = true;
      touched.add(active);
      this.#uncommitted++;
      // A commit never holds more for one topic than a batch may: past that, commit in mid-batch.
      if (largest(active.produced.bytes) >= maxRecordBytes(config.maxMessageBytes)) await this.#commit();
    }
    for (const active of touched) {
      await active.task.punctuate('stream-time');
    }
    for (const [task, n] of countBy(records, (r) => r.partition)) metrics.recordsIn.inc({ task: `${this.#o.sub.id}_${task}` }, n);
  }

  /** A record error: the handler fails the thread or dead-letters the record, in every commit mode. */
  #onProcessingError(raw: RawRecord, err: unknown, active: ActiveTask): void {
    const { config, metrics } = this.#o;
    if (config.processingExceptionHandler === 'fail') throw new ProcessingFailedError(raw, err);
    const topic = config.processingDeadLetterTopic ?? `${raw.topic}-dlq`;
    const message = err instanceof Error ? err.message : String(err);
    this.#log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, err: message, dlq: topic }, 'processing failed; record dead-lettered');
    active.produced.count++;
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
    metrics.deadLettered.inc({ topic, reason: err instanceof RecordTooLargeError ? 'too-large' : 'processing' });
  }

  #collector(produced: ActiveTask['produced']): RecordCollector {
    const { maxMessageBytes } = this.#o.config;
    const limit = maxRecordBytes(maxMessageBytes);
    return {
      send: (out: OutgoingRecord) => {
        const record: ProducerRecord = {
          topic: out.topic,
          ...(out.partition !== undefined ? { partition: out.partition } : {}),
          key: out.key,
          value: out.value,
          headers: Object.entries(out.headers),
          timestamp: out.timestamp,
        };
        // Refused here, as the input's record error, rather than by the broker for the whole commit.
        const bytes = recordBytes(record);
        if (bytes > limit) throw new RecordTooLargeError(out.topic, bytes, maxMessageBytes);
        produced.count++;
        produced.bytes.set(out.topic, (produced.bytes.get(out.topic) ?? 0) + bytes);
        this.#pending.push(record);
      },
    };
  }

  /** One commit of everything processed since the last: see CommitMode. */
  async #commit(): Promise<void> {
    if (this.#uncommitted === 0 && this.#pending.length === 0) return;
    const { sub, metrics } = this.#o;
    const started = process.hrtime.bigint();
    this.#commitStarted = Date.now();
    try {
      await this.#commitUnsafe();
    } finally {
      this.#commitStarted = 0;
    }
    this.#healthy = true;
    this.#lastError = undefined;
    this.#failures = 0;
    metrics.commits.inc({ subtopology: String(sub.id) });
    metrics.commitLatency.observe({ subtopology: String(sub.id) }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  async #commitUnsafe(): Promise<void> {
    const { config, metrics } = this.#o;
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
        const produced = await sendInChunks(records, config.maxMessageBytes, (chunk) => producer.send(chunk));
        // +1: the commit marker follows our records, so a clean restart starts past it and reads nothing.
        changelogNext = nextChangelogOffsets(produced, this.#changelogTopics(), changelogCounts, 1n);
        if (offsets.length > 0) await producer.sendOffsets(consumer, offsets);
        await producer.commit();
      } catch (err) {
        throw err instanceof FencedError || err instanceof TransactionError ? err : new TransactionError(`commit failed: ${(err as Error).message}`, { cause: err });
      }
    } else {
      if (records.length > 0) {
        // Sink-fenced sub-topologies write no topic of their own, but dead letters still need a producer.
        this.#producer ??= await this.#o.driver.createProducer({ clientId: `${config.applicationId}-${this.name}` });
        const producer = this.#producer;
        const produced = await sendInChunks(records, config.maxMessageBytes, (chunk) => producer.send(chunk));
        changelogNext = nextChangelogOffsets(produced, this.#changelogTopics(), changelogCounts, 0n);
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
      t.produced.bytes.clear();
    }
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
      t.produced.bytes.clear();
      for (const { store } of t.stores) store.abort();
    }
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

  #onRevoked(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#inCallback(async () => {
      // The work since the last commit belongs to the old generation: it cannot be committed now, so
      // it is dropped, and every task (kept or not) restarts from the committed offsets.
      const revoked = new Set(partitions.map((p) => p.partition));
      this.#log.info({ revoked: [...revoked].sort((a, b) => a - b) }, 'partitions revoked');
      await this.#abortAndDrop('revocation');
      const kept = [...this.#tasks.keys()].filter((p) => !revoked.has(p));
      await this.#closeAllTasks('revoked');
      if (kept.length > 0) await this.#openTasks(kept);
    });
  }

  #onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#inCallback(async () => {
      this.#o.metrics.rebalances.inc({ subtopology: String(this.#o.sub.id) });
      const fresh = [...new Set(partitions.map((p) => p.partition))].filter((p) => !this.#tasks.has(p)).sort((a, b) => a - b);
      this.#log.info({ assigned: fresh, generation: this.#consumer?.groupMetadata().generationId }, 'partitions assigned');
      await this.#openTasks(fresh);
    });
  }

  /**
   * Opens tasks in the order DESIGN section 4 demands: first wait until no transaction holds
   * offsets of these partitions (require_stable: a previous owner's last commit has landed or
   * aborted), only then restore the stores from their changelogs, then set the positions. Restoring
   * before the wait could miss the previous owner's last changelog records while the offsets read
   * afterwards already skip the inputs that made them.
   */
  async #openTasks(partitions: readonly number[]): Promise<void> {
    const consumer = this.#consumer!;
    const tps = partitions.flatMap((partition) => this.#sourceTopics.map((topic) => ({ topic, partition })));
    const committed = new Map((await consumer.committed(tps)).map((c) => [pkey(c.topic, c.partition), c.offset]));
    const sinkResume = new Map<number, bigint | undefined>();
    for (const partition of partitions) {
      const { active, resume } = await this.#createTask(partition);
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
          `a sink of ${this.name} holds ${tp.topic}[${tp.partition}] only up to offset ${from - 1n}, but the topic now starts at ${begin}: the records in between are gone from Kafka and cannot be replayed; rebuild the sink's store from its other copy`,
        );
      }
      this.#log.warn({ topic: tp.topic, partition: tp.partition, committed: String(committed.get(key)), from: String(from) }, 'sink store is behind the committed offset (lost state): replaying from where it is');
      this.#o.metrics.sinkReplays.inc({ subtopology: String(this.#o.sub.id) });
      this.#consumer!.seek({ ...tp, offset: from });
    }
  }

  /**
   * Opens, restores and wires one task. On any failure what it opened so far is closed again: a
   * LevelDB lock left behind would keep this very process from reopening the task.
   */
  async #createTask(partition: number): Promise<{ active: ActiveTask; resume: bigint | undefined }> {
    const { config, sub, registry, metrics, driver, globalStores } = this.#o;
    const taskId = `${sub.id}_${partition}`;
    const stores: ActiveTask['stores'][number][] = [];
    const sinks = new Map<string, Sink<unknown, unknown>>();
    try {
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
        stores.push({ spec: { name: spec.name, logged: spec.logged, serde: spec.valueSerde }, store });
        storeMap.set(spec.name, store.store);
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
      }
      for (const name of sub.globalStores) storeMap.set(name, globalStores.get(name)!);
      let resume: bigint | undefined;
      for (const node of sub.nodes) {
        if (node.kind !== 'external-sink') continue;
        const sink = node.sink.create();
        // Known before open() resolves: a sink whose service is down may retry its open until stop() closes it.
        this.#openingSinks.add(sink);
        sinks.set(node.name, sink);
        let progress: SinkProgress | void;
        try {
          progress = await sink.open({ taskId, partition });
        } finally {
          this.#openingSinks.delete(sink);
        }
        if (progress) {
          const next = progress.appliedThrough === null ? -1n : BigInt(progress.appliedThrough) + 1n;
          resume = resume === undefined || next < resume ? next : resume;
        }
      }
      const produced = { count: 0, bytes: new Map<string, number>() };
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
      // Sink progress is per partition of one input topic: it cannot place a task that reads several.
      return { active: { partition, task, stores, sinks: [...sinks.values()], dirty: false, produced }, resume: this.#sourceTopics.length === 1 ? resume : undefined };
    } catch (err) {
      for (const sink of sinks.values()) await sink.close().catch(() => undefined);
      for (const { store } of stores) await store.close().catch(() => undefined);
      throw err;
    }
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

type FailureKind = 'group' | 'producer' | 'transaction' | 'kafka' | 'infrastructure';

function failureKind(err: unknown): FailureKind {
  if (err instanceof FencedError) return err.kind;
  if (err instanceof TransactionError) return 'transaction';
  if (err instanceof KafkaDriverError) return 'kafka';
  return 'infrastructure';
}

/** Exponential backoff with full jitter from 250 ms up to `maxMs`. */
function retryDelay(attempt: number, maxMs: number): number {
  return Math.floor(Math.random() * Math.min(maxMs, 250 * 2 ** Math.min(attempt, 20))) + 100;
}

function largest(sizes: ReadonlyMap<string, number>): number {
  let max = 0;
  for (const size of sizes.values()) if (size > max) max = size;
  return max;
}

/** Sends records in chunks no topic's batch can outgrow, one after another; returns every base offset. */
async function sendInChunks(
  records: readonly ProducerRecord[],
  maxMessageBytes: number,
  send: (chunk: readonly ProducerRecord[]) => Promise<{ readonly offsets: readonly TopicPartitionOffset[] }>,
): Promise<TopicPartitionOffset[]> {
  const offsets: TopicPartitionOffset[] = [];
  for (const chunk of chunkByTopicBytes(records, maxMessageBytes)) offsets.push(...(await send(chunk)).offsets);
  return offsets;
}

/** A record failed under `processingExceptionHandler: 'fail'`: the app stops (a fatal error). */
export class ProcessingFailedError extends VotestreamError {
  constructor(raw: RawRecord, cause: unknown) {
    super('PROCESSING_FAILED', `processing ${raw.topic}[${raw.partition}]@${raw.offset} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
