/**
 * Group membership is the library's `Consumer` (@platformatic/kafka 1.35.0: JoinGroup/SyncGroup/
 * Heartbeat, classic protocol, eager, its round-robin assignor). It rejoins by itself, in the background,
 * as soon as a heartbeat reports a rebalance; its 'consumer:group:join' event is recorded here and the
 * change is delivered from the next poll(). So onRevoked runs AFTER the group has moved on: offsets of
 * the old generation can no longer be committed, which KIP-447 fencing makes safe (see GroupMetadata).
 */
import { Admin, Consumer, type ConsumerGroupJoinPayload } from '@platformatic/kafka';
import type { ConsumedRecord, GroupConsumer, GroupConsumerOptions, GroupMetadata, PollOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError, NoOffsetError } from '../errors.js';
import { describe, mapCommitError } from './error-mapping.js';
import { Fetcher } from './fetcher.js';
import { EARLIEST, LATEST, isolationCode, sortTps, tpKey } from './helpers.js';
import { committedOffsets, listOffsetsFor } from './offsets.js';

export class PlatformaticGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  /** The library consumer (used by the transactional producer for AddOffsetsToTxn and the coordinator). */
  readonly client: Consumer;
  readonly #o: GroupConsumerOptions;
  readonly #fetcher: Fetcher;
  readonly #admin: Admin;
  readonly #topics: Set<string>;
  #assigned: TopicPartition[] = [];
  readonly #paused = new Set<string>();
  #meta: GroupMetadata | null = null;
  #pendingJoin: ConsumerGroupJoinPayload | null = null;
  #joinWaiters: Array<() => void> = [];
  #asyncError: unknown = null;
  #closed = false;

  constructor(brokers: string[], clientId: string, options: GroupConsumerOptions) {
    this.#o = options;
    this.groupId = options.groupId;
    this.#topics = new Set(options.topics);
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.client = new Consumer({
      clientId,
      bootstrapBrokers: brokers,
      groupId: options.groupId,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      sessionTimeout,
      heartbeatInterval: options.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeout / 3)),
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 30_000,
      autocommit: false,
      isolationLevel: isolationCode(options.isolation),
      timeout: 15_000,
      retries: 5,
      retryDelay: 250,
    });
    this.client.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => {
      this.#pendingJoin = payload;
      this.#wakeUp();
    });
    // The library emits 'error' when a background rejoin fails for good; without a listener it would crash the process.
    this.client.on('error', (error: unknown) => {
      this.#asyncError ??= error;
      this.#wakeUp();
    });
    this.#fetcher = new Fetcher({
      client: this.client,
      clientId,
      isolation: options.isolation ?? 'read_committed',
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    });
    this.#admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, timeout: 15_000, retries: 5, retryDelay: 250 });
  }

  async join(): Promise<void> {
    this.client.topics.trackAll(...this.#topics);
    try {
      await this.client.joinGroup({});
    } catch (error) {
      throw new KafkaDriverError(`joining group ${this.groupId} failed: ${describe(error)}`, { cause: error });
    }
  }

  #wakeUp(): void {
    const waiters = this.#joinWaiters;
    this.#joinWaiters = [];
    for (const w of waiters) w();
  }

  #check(): void {
    if (this.#closed) throw new KafkaDriverError('consumer is closed');
    if (this.#asyncError !== null) {
      const error = this.#asyncError;
      throw new KafkaDriverError(`group ${this.groupId} membership failed: ${describe(error)}`, { cause: error });
    }
  }

  groupMetadata(): GroupMetadata {
    if (!this.#meta) throw new KafkaDriverError(`no assignment delivered yet for group ${this.groupId}`);
    return this.#meta;
  }

  assignment(): readonly TopicPartition[] {
    return this.#assigned;
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#fetcher.position(tp);
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#isAssigned(tp)) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this member`);
    this.#fetcher.seek(tp, tp.offset);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(tpKey(tp));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(tpKey(tp));
  }

  paused(): readonly TopicPartition[] {
    return this.#assigned.filter((tp) => this.#paused.has(tpKey(tp)));
  }

  #isAssigned(tp: TopicPartition): boolean {
    return this.#assigned.some((a) => a.topic === tp.topic && a.partition === tp.partition);
  }

  async committed(partitions: readonly TopicPartition[] = this.#assigned): Promise<Array<TopicPartition & { readonly offset: bigint | null }>> {
    const found = await committedOffsets(this.#admin, this.groupId, partitions);
    return sortTps(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(tpKey(tp)) ?? null })));
  }

  async seekToCommitted(partitions: readonly TopicPartition[] = this.#assigned): Promise<void> {
    await this.#initPositions(partitions.filter((tp) => this.#isAssigned(tp)));
  }

  async commitSync(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.#check();
    try {
      await this.client.commit({ offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset, leaderEpoch: -1 })) });
    } catch (error) {
      throw mapCommitError(error, this.groupId);
    }
  }

  async #initPositions(partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    const committed = await committedOffsets(this.#admin, this.groupId, partitions);
    const missing = partitions.filter((tp) => !committed.has(tpKey(tp)));
    const reset = this.#o.autoOffsetReset ?? 'earliest';
    if (missing.length > 0 && reset === 'none') {
      throw new NoOffsetError(`group ${this.groupId} has no committed offset for ${missing.map(tpKey).join(', ')}`);
    }
    const resets = await listOffsetsFor(this.client, missing, reset === 'latest' ? LATEST : EARLIEST, this.#o.isolation ?? 'read_committed');
    for (const tp of partitions) {
      const key = tpKey(tp);
      this.#fetcher.seek(tp, committed.get(key) ?? (resets.get(key) as bigint));
    }
  }

  async #resetOutOfRange(partitions: readonly TopicPartition[]): Promise<void> {
    const reset = this.#o.autoOffsetReset ?? 'earliest';
    if (reset === 'none') throw new NoOffsetError(`offsets out of range for ${partitions.map(tpKey).join(', ')} in group ${this.groupId}`);
    const offsets = await listOffsetsFor(this.client, partitions, reset === 'latest' ? LATEST : EARLIEST, this.#o.isolation ?? 'read_committed');
    for (const tp of partitions) this.#fetcher.seek(tp, offsets.get(tpKey(tp)) as bigint);
  }

  /**
   * Applies rebalances that happened in the background: onRevoked, then positions, then onAssigned. If
   * any step fails (a callback throws, committed offsets cannot be read) the consumer is left unusable:
   * every later call throws, and the runtime closes it and creates a new one.
   */
  async #applyRebalances(): Promise<void> {
    try {
      await this.#applyRebalancesUnsafe();
    } catch (error) {
      this.#asyncError ??= error;
      throw error;
    }
  }

  async #applyRebalancesUnsafe(): Promise<void> {
    while (this.#pendingJoin) {
      const join = this.#pendingJoin;
      this.#pendingJoin = null;
      const next: TopicPartition[] = [];
      for (const a of join.assignments ?? []) {
        if (!this.#topics.has(a.topic)) continue;
        for (const partition of a.partitions) next.push({ topic: a.topic, partition });
      }
      sortTps(next);
      const nextKeys = new Set(next.map(tpKey));
      const currentKeys = new Set(this.#assigned.map(tpKey));
      const revoked = this.#assigned.filter((tp) => !nextKeys.has(tpKey(tp)));
      const added = next.filter((tp) => !currentKeys.has(tpKey(tp)));
      const meta: GroupMetadata = {
        groupId: this.groupId,
        generationId: join.generationId ?? this.client.generationId,
        memberId: join.memberId,
        groupInstanceId: this.client.groupInstanceId,
      };
      this.#meta = meta;
      for (const tp of revoked) {
        this.#fetcher.remove(tp);
        this.#paused.delete(tpKey(tp));
      }
      this.#assigned = next;
      if (revoked.length > 0) await this.#o.onRevoked?.(revoked, meta);
      if (added.length > 0) {
        await this.#initPositions(added);
        await this.#o.onAssigned?.(added, meta);
      }
    }
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.#check();
    const maxWaitMs = options.maxWaitMs ?? 500;
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    await this.#applyRebalances();
    const active = this.#assigned.filter((tp) => !this.#paused.has(tpKey(tp)));
    if (this.#fetcher.bufferedCount(active) === 0) {
      if (active.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, maxWaitMs);
          this.#joinWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        this.#check();
        await this.#applyRebalances();
        return [];
      }
      const { outOfRange } = await this.#fetcher.fetch(active, maxWaitMs);
      if (outOfRange.length > 0) await this.#resetOutOfRange(outOfRange);
    }
    return this.#fetcher.take(active, maxRecords);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeUp();
    const results = await Promise.allSettled([this.client.close(), this.#fetcher.close(), this.#admin.close()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new KafkaDriverError(`closing consumer of group ${this.groupId} failed: ${describe(failed.reason)}`, { cause: failed.reason });
  }
}
