import type { StreamsConfig } from './streams-config.js';
import { chunkByTopicBytes } from './produce-limits.js';
import { FencedError, TransactionError } from './kafka/errors.js';
import type { GroupConsumer, GroupMetadata, KafkaDriver, Producer, ProducerRecord, TopicPartitionOffset, TransactionalProducer } from './kafka/driver.js';
import type { Logger } from './logger.js';
import type { RuntimeMetrics } from './runtime-metrics.js';

/**
 * How a sub-topology commits:
 * - `transactional`: exactly_once_v2 with Kafka outputs or logged stores: outputs, changelog
 *   records and consumed offsets in one transaction (DESIGN section 4). On a client with KIP-447
 *   one transaction per commit, of the thread's one producer; on one without (kafkajs), one
 *   transaction per task partition, each of the partition's own producer.
 * - `at-least-once`: outputs acknowledged, then offsets committed.
 * - `sink-fenced`: the sub-topology writes only to external sinks, which are exactly-once by their
 *   own fences; consumed offsets are committed after the sinks flushed, with no transaction.
 */
export type CommitMode = 'transactional' | 'at-least-once' | 'sink-fenced';

/** What the tasks prepared for one commit (their sinks already flushed): everything Kafka must hold. */
export interface PreparedCommit {
  /** Outputs, dead letters and changelog records. */
  readonly records: readonly ProducerRecord[];
  /** The task partition each record came from, index for index. */
  readonly recordTasks: readonly number[];
  /** Next offset to consume per topic-partition processed since the last commit. */
  readonly offsets: readonly TopicPartitionOffset[];
  readonly changelogTopics: ReadonlySet<string>;
  /** Changelog records per task partition in `records`. */
  readonly changelogCounts: ReadonlyMap<number, number>;
  /** The group generation the batch was processed in (taken when it was sealed); a transaction's offsets carry it. */
  readonly groupMetadata?: GroupMetadata;
}

/**
 * The middle step of a commit, the one that differs by mode: between the tasks' prepare-commit
 * (sinks flushed, changelog records collected) and their post-commit (stores committed to
 * LevelDB), it makes Kafka hold the batch for good. Each strategy owns the producer it needs.
 */
export interface CommitStrategy {
  readonly mode: CommitMode;
  /** Creates the producer this mode needs before the first poll, if it is missing (dropped after a producer fence). */
  connect(): Promise<void>;
  /** Sends the records and commits the offsets; returns the changelog offset each task partition's stores reach. */
  commit(batch: PreparedCommit, consumer: GroupConsumer): Promise<Map<number, bigint>>;
  /** Aborts the open transaction, if there is one; never throws. */
  abort(): Promise<void>;
  /** Drops the producer: after a producer fence, a transaction that cannot be aborted, or on shutdown. */
  close(): Promise<void>;
  /**
   * Before the tasks of these partitions open and read their committed offsets: a strategy with a
   * producer per partition creates theirs here, which fences the previous owner's and ends its
   * open transaction, so the offsets read next are final.
   */
  openPartitions(partitions: readonly number[]): Promise<void>;
  /** The tasks of these partitions were closed and the partitions revoked: their producers go. */
  closePartitions(partitions: readonly number[]): Promise<void>;
  /**
   * Whether a producer fence means that a partition moved to another member without this one
   * hearing of it (no group fence exists to say so): then the member rejoins the group, as Kafka
   * Streams did before KIP-447 (TaskMigratedException), instead of reopening partitions it may no
   * longer own, whose producers would fence the new owner's.
   */
  readonly rejoinOnProducerFence: boolean;
}

export interface CommitStrategyOptions {
  readonly config: StreamsConfig;
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  /** Names the producers: `<applicationId>-<name>`, and the transactional id after the instance too. */
  readonly name: string;
  readonly metrics: RuntimeMetrics;
  /** The sub-topology's id, the metrics' label. */
  readonly subtopology: string;
}

export function commitMode(config: StreamsConfig, writesKafka: boolean): CommitMode {
  return !writesKafka ? 'sink-fenced' : config.processingGuarantee === 'exactly_once_v2' ? 'transactional' : 'at-least-once';
}

export function createCommitStrategy(mode: CommitMode, options: CommitStrategyOptions): CommitStrategy {
  switch (mode) {
    case 'transactional':
      return options.driver.fencesOffsetsByGeneration ? new TransactionalCommit(options) : new PerPartitionTransactionalCommit(options);
    case 'at-least-once':
      return new AtLeastOnceCommit(options);
    case 'sink-fenced':
      return new SinkFencedCommit(options);
  }
}

/** exactly_once_v2: outputs, changelog records and offsets in one transaction. */
class TransactionalCommit implements CommitStrategy {
  readonly mode = 'transactional';
  readonly rejoinOnProducerFence = false;
  readonly #o: CommitStrategyOptions;
  #producer: TransactionalProducer | undefined;

  constructor(options: CommitStrategyOptions) {
    this.#o = options;
  }

  async connect(): Promise<void> {
    if (this.#producer !== undefined) return;
    const { config, driver, name } = this.#o;
    this.#producer = await driver.createTransactionalProducer({
      transactionalId: `${config.applicationId}-${name}-${config.instanceId}`,
      clientId: `${config.applicationId}-${name}`,
    });
    this.#o.metrics.transactionalProducers.set({ subtopology: this.#o.subtopology }, 1);
  }

  async commit(batch: PreparedCommit, consumer: GroupConsumer): Promise<Map<number, bigint>> {
    const producer = this.#producer!;
    await producer.begin();
    try {
      const produced = await sendInChunks(batch.records, this.#o.config.maxMessageBytes, (chunk) => producer.send(chunk));
      // +1: the commit marker follows our records, so a clean restart starts past it and reads nothing.
      const changelogNext = nextChangelogOffsets(produced, batch.changelogTopics, batch.changelogCounts, 1n);
      if (batch.offsets.length > 0) await producer.sendOffsets(consumer, batch.offsets, batch.groupMetadata);
      await producer.commit();
      this.#o.metrics.transactions.inc({ subtopology: this.#o.subtopology });
      return changelogNext;
    } catch (err) {
      throw err instanceof FencedError || err instanceof TransactionError ? err : new TransactionError(`commit failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async abort(): Promise<void> {
    if (!this.#producer?.inTransaction) return;
    try {
      await this.#producer.abort();
    } catch (err) {
      // Left open, the transaction would hold its offsets, and every require_stable read of the
      // group (this thread's own, reopening its tasks) would wait until the broker timed it out. A
      // new producer's InitProducerId aborts it now (errors.ts: when abort fails, replace the producer).
      this.#o.logger.warn({ err: (err as Error).message }, 'abort failed; replacing the producer');
      await this.close();
      await this.connect().catch((e: unknown) => this.#o.logger.warn({ err: (e as Error).message }, 'creating a new producer failed'));
    }
  }

  async close(): Promise<void> {
    await this.#producer?.close().catch((err: unknown) => this.#o.logger.warn({ err }, 'producer close failed'));
    this.#producer = undefined;
    this.#o.metrics.transactionalProducers.set({ subtopology: this.#o.subtopology }, 0);
  }

  async openPartitions(): Promise<void> {}

  async closePartitions(): Promise<void> {}
}

/**
 * exactly_once_v2 on a client without KIP-447 (kafkajs): what Kafka Streams did before it
 * (exactly_once, "alpha"). Each task partition has its own transactional producer,
 * `<applicationId>-<thread name>-<partition>`, created when the partition's tasks open; its
 * InitProducerId fences the producer of whoever owned the partition before, since a stale group
 * generation fences nothing here. A commit runs one transaction per partition with work, side
 * by side: the partition's outputs, dead letters, changelog records and offsets.
 *
 * The transactions are not atomic with each other, and need not be: each holds everything of
 * its partition, and a partition's outputs, store and offsets move together. When some commit and
 * another fails, the thread recovers as from any failed commit: every task reopens from committed
 * state, and the committed partitions' stores catch up from their changelogs.
 */
class PerPartitionTransactionalCommit implements CommitStrategy {
  readonly mode = 'transactional';
  readonly rejoinOnProducerFence = true;
  readonly #o: CommitStrategyOptions;
  readonly #producers = new Map<number, TransactionalProducer>();

  constructor(options: CommitStrategyOptions) {
    this.#o = options;
  }

  /** Producers come with their partitions (openPartitions). */
  async connect(): Promise<void> {}

  async openPartitions(partitions: readonly number[]): Promise<void> {
    // Always a new producer, even for a partition this thread held all along: it may have been
    // through another member since, whose transaction the InitProducerId ends.
    await this.closePartitions(partitions);
    const { config, driver, name } = this.#o;
    const created = await Promise.allSettled(partitions.map(async (partition) => {
      const producer = await driver.createTransactionalProducer({
        transactionalId: `${config.applicationId}-${name}-${partition}`,
        clientId: `${config.applicationId}-${name}-${partition}`,
      });
      this.#producers.set(partition, producer);
    }));
    this.#o.metrics.transactionalProducers.set({ subtopology: this.#o.subtopology }, this.#producers.size);
    const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async closePartitions(partitions: readonly number[]): Promise<void> {
    await Promise.all(partitions.map(async (partition) => {
      const producer = this.#producers.get(partition);
      this.#producers.delete(partition);
      await producer?.close().catch((err: unknown) => this.#o.logger.warn({ err, partition }, 'producer close failed'));
    }));
    this.#o.metrics.transactionalProducers.set({ subtopology: this.#o.subtopology }, this.#producers.size);
  }

  async commit(batch: PreparedCommit, consumer: GroupConsumer): Promise<Map<number, bigint>> {
    const work = new Map<number, { records: ProducerRecord[]; offsets: TopicPartitionOffset[]; changelog: number | undefined }>();
    const of = (partition: number) => {
      let w = work.get(partition);
      if (w === undefined) work.set(partition, (w = { records: [], offsets: [], changelog: batch.changelogCounts.get(partition) }));
      return w;
    };
    batch.records.forEach((record, i) => of(batch.recordTasks[i]!).records.push(record));
    for (const offset of batch.offsets) of(offset.partition).offsets.push(offset);
    const changelogNext = new Map<number, bigint>();
    const results = await Promise.allSettled([...work].map(async ([partition, w]) => {
      const producer = this.#producers.get(partition);
      if (producer === undefined) throw new TransactionError(`no producer for partition ${partition} of ${this.#o.name}: its tasks are not open`);
      await producer.begin();
      const produced = await sendInChunks(w.records, this.#o.config.maxMessageBytes, (chunk) => producer.send(chunk));
      if (w.offsets.length > 0) await producer.sendOffsets(consumer, w.offsets);
      await producer.commit();
      this.#o.metrics.transactions.inc({ subtopology: this.#o.subtopology });
      const counts = w.changelog === undefined ? new Map<number, number>() : new Map([[partition, w.changelog]]);
      for (const [p, next] of nextChangelogOffsets(produced, batch.changelogTopics, counts, 1n)) changelogNext.set(p, next);
    }));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 0) return changelogNext;
    // A producer fence first: it decides how the thread recovers (rejoinOnProducerFence).
    const err = errors.find((e) => e instanceof FencedError) ?? errors[0];
    throw err instanceof FencedError || err instanceof TransactionError ? err : new TransactionError(`commit failed: ${(err as Error).message}`, { cause: err });
  }

  async abort(): Promise<void> {
    await Promise.all([...this.#producers].map(async ([partition, producer]) => {
      if (!producer.inTransaction) return;
      try {
        await producer.abort();
      } catch (err) {
        // As in TransactionalCommit: a new producer's InitProducerId ends the transaction now.
        this.#o.logger.warn({ err: (err as Error).message, partition }, 'abort failed; replacing the producer');
        await this.openPartitions([partition]).catch((e: unknown) => this.#o.logger.warn({ err: (e as Error).message, partition }, 'creating a new producer failed'));
      }
    }));
  }

  async close(): Promise<void> {
    await this.closePartitions([...this.#producers.keys()]);
  }
}

/** Outputs acknowledged first, then the offsets committed by the group. */
class AtLeastOnceCommit implements CommitStrategy {
  readonly mode: CommitMode = 'at-least-once';
  readonly rejoinOnProducerFence = false;
  readonly #o: CommitStrategyOptions;
  #producer: Producer | undefined;

  constructor(options: CommitStrategyOptions) {
    this.#o = options;
  }

  async connect(): Promise<void> {
    this.#producer ??= await this.#createProducer();
  }

  async commit(batch: PreparedCommit, consumer: GroupConsumer): Promise<Map<number, bigint>> {
    let changelogNext = new Map<number, bigint>();
    if (batch.records.length > 0) {
      this.#producer ??= await this.#createProducer();
      const producer = this.#producer;
      const produced = await sendInChunks(batch.records, this.#o.config.maxMessageBytes, (chunk) => producer.send(chunk));
      changelogNext = nextChangelogOffsets(produced, batch.changelogTopics, batch.changelogCounts, 0n);
    }
    if (batch.offsets.length > 0) await consumer.commitSync(batch.offsets);
    return changelogNext;
  }

  async abort(): Promise<void> {
    // No transaction: what was sent stays sent, and is sent again on replay (at least once).
  }

  async openPartitions(): Promise<void> {}

  async closePartitions(): Promise<void> {}

  async close(): Promise<void> {
    await this.#producer?.close().catch((err: unknown) => this.#o.logger.warn({ err }, 'producer close failed'));
    this.#producer = undefined;
  }

  #createProducer(): Promise<Producer> {
    const { config, driver, name } = this.#o;
    return driver.createProducer({ clientId: `${config.applicationId}-${name}` });
  }
}

/**
 * The sinks are exactly-once by their own fences, so the offsets need only follow their flush.
 * No topic of its own to write: the producer is created only once a dead letter needs one.
 */
class SinkFencedCommit extends AtLeastOnceCommit {
  override readonly mode: CommitMode = 'sink-fenced';

  override async connect(): Promise<void> {}
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
