import type { Registry } from 'prom-client';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { resolveTopic, type SubTopologySpec } from '../topology/topology-spec.js';
import { systemClock, type Clock } from './clock.js';
import { commitMode, createCommitStrategy, type CommitMode, type CommitStrategy, type PreparedCommit } from './commit-strategy.js';
import { isFatalError, isInfrastructureError } from './error-kinds.js';
import { FencedError, KafkaDriverError, TransactionError } from './kafka/errors.js';
import type { ConsumedRecord, GroupConsumer, KafkaDriver, TopicPartitionOffset } from './kafka/driver.js';
import { KafkaRecordCollector } from './kafka-record-collector.js';
import type { Logger } from './logger.js';
import { toRawRecord } from './consumed-record.js';
import type { RawRecord } from './raw-record.js';
import { ProcessingFailedError } from './processing-failed-error.js';
import { recordContext } from './record-context.js';
import { maxRecordBytes, RecordTooLargeError } from './produce-limits.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import type { StreamsConfig } from './streams-config.js';
import { TaskManager, type ActiveTask, type SealedTasks } from './task-manager.js';

export type { CommitMode } from './commit-strategy.js';

export interface StreamThreadOptions {
  readonly config: StreamsConfig;
  readonly sub: SubTopologySpec;
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly globalStores: ReadonlyMap<string, KeyValueStore<unknown>>;
  /** Wall-clock time for the commit interval, readiness, lag refreshes and the tasks' punctuation. Default: the system clock. */
  readonly clock?: Clock;
}

const pkey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Records processed between two pauses for I/O while a commit is in flight. */
const YIELD_EVERY_RECORDS = 256;
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs one sub-topology in this process: one consumer-group member (group
 * `<applicationId>-<first source node name>`), one task per assigned partition, and the commit loop. Each
 * sub-topology has its own group and so its own progress: a slow sink never holds back another.
 * The thread polls, processes and decides when to commit and how to recover; its TaskManager owns
 * the tasks, and its CommitStrategy the commit mode's producer and protocol.
 */
export class StreamThread {
  readonly name: string;
  readonly groupId: string;
  readonly mode: CommitMode;
  readonly #o: StreamThreadOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #sourceTopics: string[];
  readonly #tasks: TaskManager;
  readonly #commits: CommitStrategy;
  readonly #collector: KafkaRecordCollector;
  #consumer: GroupConsumer | undefined;
  /** Next offset to consume per topic-partition, for what was processed since the last commit. */
  #offsets = new Map<string, TopicPartitionOffset>();
  #uncommitted = 0;
  #lastCommit: number;
  #stopping = false;
  #running: Promise<void> | undefined;
  #lastLag = 0;
  /** False from a failure until the thread commits again or polls with nothing to commit. */
  #healthy = false;
  #lastError: string | undefined;
  /** When the running commit started (0 = none): a commit stuck on a sink's outage makes the thread not ready. */
  #commitStarted = 0;
  /** Failures since the last successful commit: the backoff grows with them. */
  #failures = 0;
  /** Whether a commit runs while the next batch is processed (transactional mode, config.overlapCommits). */
  readonly #overlap: boolean;
  /** The commit of the sealed batch, while it runs (at most one). */
  #inFlight: Promise<void> | undefined;
  /** Set when the commit in flight failed: the poll loop rethrows its error without waiting for the next commit. */
  #inFlightFailed = false;
  readonly #stopSignal = new AbortController();

  constructor(options: StreamThreadOptions) {
    this.#o = options;
    const { config, sub } = options;
    this.#clock = options.clock ?? systemClock;
    this.#lastCommit = this.#clock.nowMs();
    // Named after its first source node, not its position, so that a group (and its committed
    // offsets) stays the same when other parts of the topology are added or left out.
    const source = sub.nodes.find((n) => n.kind === 'source');
    this.name = source?.name ?? `sub${sub.id}`;
    this.groupId = `${config.applicationId}-${this.name}`;
    this.#log = options.logger.child({ subtopology: sub.id });
    this.#sourceTopics = sub.sourceTopics.map((t) => resolveTopic(config.applicationId, t, sub.internalTopics.includes(t)));
    const writesKafka = sub.nodes.some((n) => n.kind === 'topic-sink') || sub.stores.some((s) => s.logged);
    this.mode = commitMode(config, writesKafka);
    this.#commits = createCommitStrategy(this.mode, { config, driver: options.driver, logger: this.#log, name: this.name, metrics: options.metrics, subtopology: String(sub.id) });
    // Only a transaction can be left running: its outputs stay invisible and its offsets carry the
    // generation of the sealed batch, so whatever happens meanwhile, it commits all or nothing.
    // The other modes flush sinks or acknowledge outputs before their offsets and stay blocking.
    this.#overlap = this.mode === 'transactional' && config.overlapCommits;
    this.#collector = new KafkaRecordCollector(config.maxMessageBytes);
    this.#tasks = new TaskManager({
      ...options,
      logger: this.#log,
      clock: this.#clock,
      name: this.name,
      sourceTopics: this.#sourceTopics,
      collector: this.#collector,
      consumer: () => this.#consumer,
      dropUncommitted: (reason) => this.#abortAndDrop(reason),
      openPartitions: (partitions) => this.#commits.openPartitions(partitions),
      closePartitions: (partitions) => this.#commits.closePartitions(partitions),
    });
  }

  get sourceTopics(): readonly string[] {
    return this.#sourceTopics;
  }

  get assignedPartitions(): number[] {
    return this.#tasks.partitions;
  }

  /**
   * Ready = connected, no recovery under way, and no commit stuck for longer than the session
   * timeout (a sink retrying through its service's outage). `reason` says why not.
   */
  readiness(): { readonly ready: boolean; readonly reason?: string } {
    if (this.#consumer === undefined) return { ready: false, reason: this.#lastError ?? 'connecting' };
    if (!this.#healthy) return { ready: false, reason: this.#lastError ?? 'starting' };
    if (this.#commitStarted > 0 && this.#clock.nowMs() - this.#commitStarted > this.#o.config.sessionTimeoutMs) {
      return { ready: false, reason: `commit running for ${this.#clock.nowMs() - this.#commitStarted} ms (a sink retrying through an outage?)` };
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
      for (const sink of this.#tasks.sinks()) await sink.close().catch(() => undefined);
      // A sink whose client call never settles must not keep the process from stopping.
      const ended = await Promise.race([running.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
      if (!ended) this.#log.error('a sink did not end its write after being closed; abandoning this thread');
    }
  }

  /** Creates what is missing: the producer (dropped after a producer fence) and the group member (dropped after a Kafka failure). */
  async #connect(): Promise<void> {
    const { config, driver } = this.#o;
    await this.#commits.connect();
    if (this.#consumer !== undefined) return;
    this.#consumer = await driver.createGroupConsumer({
      groupId: this.groupId,
      topics: this.#sourceTopics,
      clientId: `${config.applicationId}-${this.name}`,
      sessionTimeoutMs: config.sessionTimeoutMs,
      isolation: 'read_committed',
      autoOffsetReset: 'earliest',
      onRevoked: (partitions) => this.#tasks.onRevoked(partitions),
      onAssigned: (partitions) => this.#tasks.onAssigned(partitions),
    });
  }

  async #disconnect(): Promise<void> {
    await this.#tasks.closeAll('shutdown');
    await this.#consumer?.close().catch((err: unknown) => this.#log.warn({ err }, 'consumer close failed'));
    await this.#commits.close();
    this.#consumer = undefined;
    this.#tasks.forgetGeneration();
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
        if (kind === 'producer' || (err instanceof TransactionError && !err.abortable)) await this.#commits.close();
        if (kind === 'kafka' || (kind === 'producer' && this.#commits.rejoinOnProducerFence)) await this.#disconnect();
        else await this.#tasks.closeForRecovery(kind);
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
      this.#tasks.throwDeferred();
      // A failed commit in flight: recover now, not only once the next batch is due to commit.
      if (this.#inFlightFailed) await this.#awaitCommit();
      if (await this.#tasks.afterPoll()) continue;
      if (records.length > 0) await this.#processBatch(records);
      for (const t of this.#tasks.values()) await t.task.punctuate('wall-clock');
      if (this.#uncommitted > 0 && (this.#clock.nowMs() - this.#lastCommit >= config.commitIntervalMs || this.#uncommitted >= config.maxBatchRecords)) {
        if (this.#overlap) await this.#startCommit();
        else await this.#commit();
      }
      if (this.#uncommitted === 0 && this.#collector.size === 0) {
        // Nothing to commit and the poll went through: caught up, so healthy again.
        this.#healthy = true;
        this.#lastError = undefined;
      }
      if (this.#clock.nowMs() - this.#lastLag >= config.lagRefreshMs) await this.#refreshLag();
    }
  }

  async #processBatch(records: ConsumedRecord[]): Promise<void> {
    const { metrics, config } = this.#o;
    const touched = new Set<ActiveTask>();
    let sinceYield = 0;
    // A fetch hands records over in runs per partition: the next offset to commit is noted once
    // per run, not once per record.
    let runLast: ConsumedRecord | undefined;
    const noteRun = (): void => {
      if (runLast === undefined) return;
      this.#offsets.set(pkey(runLast.topic, runLast.partition), { topic: runLast.topic, partition: runLast.partition, offset: runLast.offset + 1n });
      runLast = undefined;
    };
    for (const r of records) {
      // Processing runs on promises that settle at once, so without a pause the commit in flight
      // would not see its broker's answers until the whole batch is done: it would only overlap
      // the poll. A pause now and then lets each of its round trips go on while we process.
      if (this.#inFlight !== undefined && ++sinceYield >= YIELD_EVERY_RECORDS) {
        sinceYield = 0;
        await yieldToIo();
      }
      const active = this.#tasks.get(r.partition);
      if (active === undefined) continue; // revoked in between: its records are not ours
      if (runLast !== undefined && (runLast.partition !== r.partition || runLast.topic !== r.topic)) noteRun();
      const raw = toRawRecord(r);
      try {
        await active.task.process(raw);
      } catch (err) {
        if (isInfrastructureError(err) || isFatalError(err)) throw err;
        this.#onProcessingError(raw, err, active);
      }
      runLast = r;
      active.dirty = true;
      touched.add(active);
      this.#uncommitted++;
      // A commit never holds more for one topic than a batch may: past that, commit in mid-batch.
      if (largest(active.produced.bytes) >= maxRecordBytes(config.maxMessageBytes)) {
        noteRun();
        await (this.#overlap ? this.#startCommit() : this.#commit());
      }
    }
    noteRun();
    for (const active of touched) {
      await active.task.punctuate('stream-time');
    }
    for (const [task, n] of countBy(records, (r) => r.partition)) metrics.recordsIn.inc({ task: `${this.#o.sub.id}_${task}` }, n);
  }

  /** A record error: the handler fails the thread or dead-letters the record, in every commit mode. */
  #onProcessingError(raw: RawRecord, err: unknown, active: ActiveTask): void {
    const { config, metrics } = this.#o;
    const context = recordContext(active.task.id, raw);
    if (config.processingExceptionHandler === 'fail') throw new ProcessingFailedError(context, err);
    const topic = config.processingDeadLetterTopic ?? `${raw.topic}-dlq`;
    const message = err instanceof Error ? err.message : String(err);
    this.#log.warn({ task: context.taskId, topic: raw.topic, partition: raw.partition, offset: raw.offset, err: message, dlq: topic }, 'processing failed; record dead-lettered');
    this.#collector.deadLetter(raw, topic, message, active.produced);
    metrics.deadLettered.inc({ topic, reason: err instanceof RecordTooLargeError ? 'too-large' : 'processing' });
  }

  /** One commit of everything processed since the last, waited for: see CommitMode. */
  async #commit(): Promise<void> {
    await this.#startCommit();
    await this.#awaitCommit();
  }

  /**
   * Starts a commit of everything processed since the last one and returns while it runs: the
   * tasks seal their writes (reads still see them, LevelDB gets them only after Kafka committed,
   * DESIGN section 4) and take the next batch meanwhile. One commit at a time: the one in flight
   * is waited for first, and its failure thrown, since later work was built on it.
   */
  async #startCommit(): Promise<void> {
    await this.#awaitCommit();
    if (this.#uncommitted === 0 && this.#collector.size === 0) return;
    const { sub, metrics } = this.#o;
    const consumer = this.#consumer!;
    const started = process.hrtime.bigint();
    this.#commitStarted = this.#clock.nowMs();
    let sealed: SealedTasks;
    try {
      sealed = await this.#tasks.seal();
    } catch (err) {
      this.#commitStarted = 0;
      throw err;
    }
    const offsets = [...this.#offsets.values()];
    const batch: PreparedCommit = {
      records: [...this.#collector.pending, ...sealed.changelogRecords],
      recordTasks: [...this.#collector.pendingTasks, ...sealed.changelogRecords.map((r) => r.partition!)],
      offsets,
      changelogTopics: sealed.changelogTopics,
      changelogCounts: sealed.changelogCounts,
      groupMetadata: offsets.length > 0 && this.mode === 'transactional' ? consumer.groupMetadata() : undefined,
    };
    this.#collector.clear();
    this.#offsets = new Map();
    this.#uncommitted = 0;
    // The interval runs from seal to seal; after a failure the replayed work is due at once, as it was.
    const previousCommit = this.#lastCommit;
    this.#lastCommit = this.#clock.nowMs();
    const run = (async () => {
      try {
        const changelogNext = await this.#commits.commit(batch, consumer);
        await this.#tasks.completeSealed(sealed, changelogNext);
      } catch (err) {
        this.#lastCommit = previousCommit;
        throw err;
      }
      this.#healthy = true;
      this.#lastError = undefined;
      this.#failures = 0;
      metrics.commits.inc({ subtopology: String(sub.id) });
      metrics.commitLatency.observe({ subtopology: String(sub.id) }, Number(process.hrtime.bigint() - started) / 1e9);
    })();
    this.#inFlight = run;
    run.then(
      () => undefined,
      () => (this.#inFlightFailed = true),
    );
  }

  /** Waits for the commit in flight, if any; throws its error. */
  async #awaitCommit(): Promise<void> {
    const running = this.#inFlight;
    if (running === undefined) return;
    try {
      await running;
    } finally {
      this.#inFlight = undefined;
      this.#inFlightFailed = false;
      this.#commitStarted = 0;
    }
  }

  /**
   * Drops every uncommitted effect of the thread: the open transaction, buffered outputs, store
   * write buffers. A commit in flight is let finish first (a revocation lets it land in the old
   * generation, as Kafka Streams commits in onPartitionsRevoked); if it fails, its batch is dropped too.
   */
  async #abortAndDrop(reason: string): Promise<void> {
    await this.#awaitCommit().catch((err: unknown) => this.#log.info({ err: (err as Error).message }, 'the commit in flight failed; its batch is dropped'));
    await this.#commits.abort();
    if (this.#collector.size > 0 || this.#uncommitted > 0) {
      this.#log.info({ reason, records: this.#uncommitted }, 'dropped uncommitted work');
    }
    this.#collector.clear();
    this.#offsets = new Map();
    this.#uncommitted = 0;
    this.#tasks.dropUncommitted();
  }

  async #refreshLag(): Promise<void> {
    this.#lastLag = this.#clock.nowMs();
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

function countBy<T>(items: readonly T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
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
