/**
 * The group consumer over kafkajs 2.2.4: membership, fetching and read_committed filtering are kafkajs'
 * (`consumer.run` with `eachBatch`, auto-commit off), turned into poll() by batch-pump.ts. kafkajs
 * rejoins in the background (when a heartbeat reports a rebalance); its GROUP_JOIN event is recorded and
 * the change is delivered from the next poll(), as in the platformatic driver.
 *
 * kafkajs 2.2.4 limits, worked around or taken as they are:
 * - GROUP_JOIN carries no generation id and kafkajs exposes none; the only place it appears is the
 *   ConsumerGroup's debug log 'Received assignment' (logged at SyncGroup, before GROUP_JOIN). This
 *   consumer's Kafka instance therefore logs at DEBUG into a log creator that keeps only that entry
 *   (KAFKAJS_LOG_LEVEL, when set, overrides the level and would hide it: groupMetadata() then throws).
 * - No static membership (KIP-345): `groupInstanceId` is refused.
 * - No require_stable on offset fetches (offsets.ts).
 * - Offsets out of range are reset by kafkajs itself to the start given at subscribe (earliest, or latest
 *   for autoOffsetReset 'latest'); 'none' cannot be honoured for a position that falls out of range.
 */
import { Kafka, logLevel, type Admin, type Consumer, type ConsumerGroupJoinEvent, type LogEntry } from 'kafkajs';
import type { ConsumedRecord, GroupConsumer, GroupConsumerOptions, GroupMetadata, PollOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError, NoOffsetError } from '../errors.js';
import { sleep, sortTps, tpKey } from '../platformatic/helpers.js';
import { BatchPump } from './batch-pump.js';
import { describeKafkajs, mapKafkajsCommitError } from './error-mapping.js';
import { OffsetLister, committedOffsetsOf } from './offsets.js';

interface PendingJoin {
  readonly assignment: TopicPartition[];
  readonly generationId: number;
  readonly memberId: string;
}

export interface KafkajsClientConfig {
  readonly brokers: string[];
  readonly clientId: string;
}

/** Kafka instances of this driver log nothing: the driver reports through its errors, as the other one. */
export function quietKafka(config: KafkajsClientConfig): Kafka {
  return new Kafka({ clientId: config.clientId, brokers: config.brokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

export class KafkajsGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  readonly #o: GroupConsumerOptions;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #offsets: OffsetLister;
  readonly #pump: BatchPump;
  readonly #topics: Set<string>;
  #assigned: TopicPartition[] = [];
  #meta: GroupMetadata | null = null;
  /** Generation seen in the 'Received assignment' debug entry, for the GROUP_JOIN that follows it. */
  #syncedGeneration: number | null = null;
  #pendingJoin: PendingJoin | null = null;
  #asyncError: unknown = null;
  #closed = false;

  constructor(config: KafkajsClientConfig, options: GroupConsumerOptions) {
    if (options.groupInstanceId !== undefined) throw new KafkaDriverError('kafkajs 2.2.4 has no static membership (groupInstanceId)');
    this.#o = options;
    this.groupId = options.groupId;
    this.#topics = new Set(options.topics);
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    const heartbeatInterval = options.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeout / 3));
    const kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry: LogEntry) => this.#onLog(entry),
      retry: { retries: 5 },
    });
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 30_000,
      readUncommitted: (options.isolation ?? 'read_committed') === 'read_uncommitted',
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: Math.min(250, heartbeatInterval),
      allowAutoTopicCreation: false,
    });
    const quiet = quietKafka({ clientId: `${config.clientId}-admin`, brokers: config.brokers });
    this.#admin = quiet.admin();
    this.#offsets = new OffsetLister(quiet);
    this.#pump = new BatchPump({ consumer: this.#consumer, heartbeatIntervalMs: heartbeatInterval });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => this.#onJoin(event));
    this.#consumer.on(this.#consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        this.#asyncError ??= event.payload.error;
        this.#pump.wakeUp();
      }
    });
  }

  #onLog(entry: LogEntry): void {
    if (entry.namespace !== 'ConsumerGroup' || entry.log.message !== 'Received assignment') return;
    const generationId = (entry.log as { generationId?: unknown }).generationId;
    if (typeof generationId === 'number') this.#syncedGeneration = generationId;
  }

  #onJoin(event: ConsumerGroupJoinEvent): void {
    const assignment: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
      if (!this.#topics.has(topic)) continue;
      for (const partition of partitions) assignment.push({ topic, partition });
    }
    sortTps(assignment);
    const generationId = this.#syncedGeneration ?? -1;
    this.#pendingJoin = { assignment, generationId, memberId: event.payload.memberId };
    // kafkajs restarts every partition from its committed offset: kept ones go back to our positions now, before it fetches.
    const next = new Set(assignment.map(tpKey));
    this.#pump.realign(this.#assigned.filter((tp) => next.has(tpKey(tp))));
  }

  async join(): Promise<void> {
    const reset = this.#o.autoOffsetReset ?? 'earliest';
    try {
      await this.#admin.connect();
      await this.#waitForLeaders();
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [...this.#topics], fromBeginning: reset !== 'latest' });
      await this.#consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 64, eachBatch: this.#pump.eachBatch });
    } catch (error) {
      throw new KafkaDriverError(`joining group ${this.groupId} failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  /**
   * kafkajs 2.2.4 answers a stale-metadata error in a fetch (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,
   * UNKNOWN_TOPIC_OR_PARTITION, ...) by refreshing its metadata AND rejoining the group
   * (`ConsumerGroup#recoverFromFetch`): a rebalance of every member and a new generation, where the Java
   * consumer only refreshes its metadata. A topic created moments ago triggers it on the first fetches
   * (seen in the driver contract test), so joining waits until every partition of the subscribed topics
   * answers ListOffsets. Leader moves later on (a broker restart) still cost a rebalance on this driver.
   */
  async #waitForLeaders(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The metadata too: a broker that has not heard of the new topic yet answers UNKNOWN_TOPIC_OR_PARTITION.
        const partitions: TopicPartition[] = [];
        const metadata = await this.#admin.fetchTopicMetadata({ topics: [...this.#topics] });
        for (const t of metadata.topics) for (const p of t.partitions) partitions.push({ topic: t.name, partition: p.partitionId });
        await this.#offsets.list(partitions, 'latest', 'read_uncommitted');
        return;
      } catch (error) {
        if (attempt >= 50) throw error;
        await sleep(100);
      }
    }
  }

  #check(): void {
    if (this.#closed) throw new KafkaDriverError('consumer is closed');
    if (this.#asyncError !== null) {
      const error = this.#asyncError;
      throw new KafkaDriverError(`group ${this.groupId} membership failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  groupMetadata(): GroupMetadata {
    if (!this.#meta) throw new KafkaDriverError(`no assignment delivered yet for group ${this.groupId}`);
    if (this.#meta.generationId < 0) throw new KafkaDriverError(`the generation of group ${this.groupId} is unknown (kafkajs debug log hidden by KAFKAJS_LOG_LEVEL?)`);
    return this.#meta;
  }

  assignment(): readonly TopicPartition[] {
    return this.#assigned;
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#pump.position(tp);
  }

  #isAssigned(tp: TopicPartition): boolean {
    return this.#assigned.some((a) => a.topic === tp.topic && a.partition === tp.partition);
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#isAssigned(tp)) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this member`);
    this.#pump.seek(tp, tp.offset);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.#pump.pause(partitions.filter((tp) => this.#isAssigned(tp)));
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.#pump.resume(partitions);
  }

  paused(): readonly TopicPartition[] {
    return this.#assigned.filter((tp) => this.#pump.isPaused(tp));
  }

  async committed(partitions: readonly TopicPartition[] = this.#assigned): Promise<Array<TopicPartition & { readonly offset: bigint | null }>> {
    const found = new Map((await committedOffsetsOf(this.#admin, this.groupId, partitions)).map((o) => [tpKey(o), o.offset]));
    return sortTps(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(tpKey(tp)) ?? null })));
  }

  async seekToCommitted(partitions: readonly TopicPartition[] = this.#assigned): Promise<void> {
    await this.#initPositions(partitions.filter((tp) => this.#isAssigned(tp)));
  }

  async commitSync(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.#check();
    try {
      await this.#consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() })));
    } catch (error) {
      throw mapKafkajsCommitError(error, this.groupId);
    }
  }

  async #initPositions(partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    const committed = new Map((await committedOffsetsOf(this.#admin, this.groupId, partitions)).map((o) => [tpKey(o), o.offset]));
    const missing = partitions.filter((tp) => !committed.has(tpKey(tp)));
    const reset = this.#o.autoOffsetReset ?? 'earliest';
    if (missing.length > 0 && reset === 'none') throw new NoOffsetError(`group ${this.groupId} has no committed offset for ${missing.map(tpKey).join(', ')}`);
    const resets = await this.#offsets.list(missing, reset === 'latest' ? 'latest' : 'earliest', this.#o.isolation ?? 'read_committed');
    for (const tp of partitions) {
      const key = tpKey(tp);
      this.#pump.seek(tp, committed.get(key) ?? (resets.get(key) as bigint));
    }
  }

  /** As the platformatic consumer: a failed step leaves the consumer unusable (the runtime replaces it). */
  async #applyRebalances(): Promise<void> {
    try {
      while (this.#pendingJoin) {
        const join = this.#pendingJoin;
        this.#pendingJoin = null;
        const nextKeys = new Set(join.assignment.map(tpKey));
        const currentKeys = new Set(this.#assigned.map(tpKey));
        const revoked = this.#assigned.filter((tp) => !nextKeys.has(tpKey(tp)));
        const added = join.assignment.filter((tp) => !currentKeys.has(tpKey(tp)));
        const meta: GroupMetadata = { groupId: this.groupId, generationId: join.generationId, memberId: join.memberId, groupInstanceId: null };
        this.#meta = meta;
        for (const tp of revoked) this.#pump.remove(tp);
        this.#assigned = join.assignment;
        if (revoked.length > 0) await this.#o.onRevoked?.(revoked, meta);
        if (added.length > 0) {
          await this.#initPositions(added);
          await this.#o.onAssigned?.(added, meta);
        }
      }
    } catch (error) {
      this.#asyncError ??= error;
      throw error;
    }
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.#check();
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    await this.#applyRebalances();
    const active = this.#assigned.filter((tp) => !this.#pump.isPaused(tp));
    if (this.#pump.bufferedCount(active) === 0) {
      await this.#pump.waitForData(active, options.maxWaitMs ?? 500);
      this.#check();
      if (this.#pendingJoin) {
        await this.#applyRebalances();
        return [];
      }
    }
    return this.#pump.take(active, maxRecords);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pump.close();
    const results = await Promise.allSettled([this.#consumer.disconnect(), this.#admin.disconnect(), this.#offsets.close()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new KafkaDriverError(`closing consumer of group ${this.groupId} failed: ${describeKafkajs(failed.reason)}`, { cause: failed.reason });
  }
}
