/**
 * A consumer-group member over a FakeCluster, with the real driver's observable behaviour
 * (platformatic/group-consumer.ts): rebalances are delivered from within poll(), onRevoked first
 * (only partitions leaving this member), then positions from the committed offsets (require_stable),
 * then onAssigned; a callback that throws leaves the consumer unusable; groupMetadata() is the
 * generation the application last saw, which is what sendOffsets is stamped with.
 */
import type { ConsumedRecord, GroupConsumer, GroupConsumerOptions, GroupMetadata, PollOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError, NoOffsetError } from '../errors.js';
import type { FakeClientContext } from './fake-client.js';
import type { FakeCluster } from './fake-cluster.js';
import { compareTp, tpKey, type FakeMember } from './fake-groups.js';

export class FakeGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  readonly clientId: string;
  readonly cluster: FakeCluster;
  readonly #driver: string;
  readonly #o: GroupConsumerOptions;
  /** require_stable on offset fetches: KIP-447, absent from a client without it (FakeKafkaDriverOptions). */
  readonly #requireStable: boolean;
  #member: FakeMember;
  /** The generation last delivered to the application; -1 before the first poll. */
  #seenGeneration = -1;
  #meta: GroupMetadata | null = null;
  #assigned: TopicPartition[] = [];
  readonly #positions = new Map<string, bigint>();
  readonly #paused = new Set<string>();
  #broken: unknown = null;
  #closed = false;

  /** Use FakeKafkaDriver.createGroupConsumer: it joins the group (which rebalances) before resolving. */
  constructor(ctx: FakeClientContext, clientId: string, options: GroupConsumerOptions) {
    this.cluster = ctx.cluster;
    this.#driver = ctx.driver;
    this.clientId = clientId;
    this.groupId = options.groupId;
    this.#o = options;
    this.#requireStable = ctx.fencesOffsetsByGeneration !== false;
    this.#member = this.#join();
  }

  #join(): FakeMember {
    return this.cluster.join(this.groupId, { clientId: this.clientId, groupInstanceId: this.#o.groupInstanceId ?? null, topics: this.#o.topics });
  }

  /** The member id this consumer has in the group now (it changes when the member was removed and rejoined). */
  get memberId(): string {
    return this.#member.memberId;
  }

  #check(): void {
    if (this.#closed) throw new KafkaDriverError('consumer is closed');
    if (this.#broken !== null) {
      const error = this.#broken;
      throw new KafkaDriverError(`group ${this.groupId} membership failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  get #isolation() {
    return this.#o.isolation ?? 'read_committed';
  }

  groupMetadata(): GroupMetadata {
    if (this.#meta === null) throw new KafkaDriverError(`no assignment delivered yet for group ${this.groupId}`);
    return this.#meta;
  }

  assignment(): readonly TopicPartition[] {
    return this.#assigned;
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#positions.get(tpKey(tp));
  }

  #isAssigned(tp: TopicPartition): boolean {
    return this.#assigned.some((a) => a.topic === tp.topic && a.partition === tp.partition);
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#isAssigned(tp)) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this member`);
    this.#positions.set(tpKey(tp), tp.offset);
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

  async committed(partitions: readonly TopicPartition[] = this.#assigned): Promise<Array<TopicPartition & { readonly offset: bigint | null }>> {
    this.#check();
    await this.cluster.enter('committed', this.#driver, this.groupId);
    const found = await this.cluster.stableCommitted(this.groupId, partitions, this.#requireStable);
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(tpKey(tp)) ?? null })).sort(compareTp);
  }

  async seekToCommitted(partitions: readonly TopicPartition[] = this.#assigned): Promise<void> {
    await this.#initPositions(partitions.filter((tp) => this.#isAssigned(tp)));
  }

  /** Stamped with the generation the application saw: between a rebalance and this member's next poll the coordinator would answer REBALANCE_IN_PROGRESS. */
  async commitSync(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.#check();
    await this.cluster.enter('commitSync', this.#driver, this.groupId);
    this.cluster.checkGeneration(this.groupMetadata());
    this.cluster.commitOffsets(this.groupId, offsets);
  }

  async #initPositions(partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    const committed = await this.cluster.stableCommitted(this.groupId, partitions, this.#requireStable);
    const missing = partitions.filter((tp) => !committed.has(tpKey(tp)));
    if (missing.length > 0 && (this.#o.autoOffsetReset ?? 'earliest') === 'none') {
      throw new NoOffsetError(`group ${this.groupId} has no committed offset for ${missing.map(tpKey).join(', ')}`);
    }
    for (const tp of partitions) this.#positions.set(tpKey(tp), committed.get(tpKey(tp)) ?? this.#resetOffset(tp));
  }

  #resetOffset(tp: TopicPartition): bigint {
    const reset = this.#o.autoOffsetReset ?? 'earliest';
    if (reset === 'none') throw new NoOffsetError(`offsets out of range for ${tpKey(tp)} in group ${this.groupId}`);
    const log = this.cluster.log(tp);
    return reset === 'latest' ? log.end(this.#isolation) : log.logStart;
  }

  /** A failure while delivering a rebalance leaves the consumer unusable, as with the real driver: the runtime replaces it. */
  async #applyRebalances(): Promise<void> {
    try {
      await this.#applyRebalancesUnsafe();
    } catch (error) {
      this.#broken ??= error;
      throw error;
    }
  }

  async #applyRebalancesUnsafe(): Promise<void> {
    const group = this.cluster.group(this.groupId);
    for (;;) {
      if (!group.members.has(this.#member.memberId)) {
        // Replaced by a newer static member with our instance id: FENCED_INSTANCE_ID, final for this client.
        const id = this.#member.groupInstanceId;
        if (id !== null && [...group.members.values()].some((m) => m.groupInstanceId === id)) {
          throw new KafkaDriverError(`group instance ${id} of group ${this.groupId} was taken over by another member (FENCED_INSTANCE_ID)`);
        }
        // Removed (session timeout): the real client rejoins by itself, under a new member id.
        this.#member = this.#join();
      }
      if (group.generation === this.#seenGeneration) return;
      this.#seenGeneration = group.generation;
      const next = this.#member.assignment.filter((tp) => this.#o.topics.includes(tp.topic)).sort(compareTp);
      const nextKeys = new Set(next.map(tpKey));
      const currentKeys = new Set(this.#assigned.map(tpKey));
      const revoked = this.#assigned.filter((tp) => !nextKeys.has(tpKey(tp)));
      const added = next.filter((tp) => !currentKeys.has(tpKey(tp)));
      const meta: GroupMetadata = { groupId: this.groupId, generationId: group.generation, memberId: this.#member.memberId, groupInstanceId: this.#member.groupInstanceId };
      this.#meta = meta;
      for (const tp of revoked) {
        this.#positions.delete(tpKey(tp));
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

  #fetch(partitions: readonly TopicPartition[], maxRecords: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const tp of partitions) {
      if (out.length >= maxRecords) break;
      const key = tpKey(tp);
      const log = this.cluster.log(tp);
      let position = this.#positions.get(key);
      if (position === undefined) continue;
      if (!log.inRange(position)) this.#positions.set(key, (position = this.#resetOffset(tp)));
      const { records, next } = log.read(position, this.#isolation, maxRecords - out.length);
      this.#positions.set(key, next);
      out.push(...records);
    }
    return out;
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.#check();
    await this.cluster.enter('poll', this.#driver, this.groupId);
    this.#check();
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    await this.#applyRebalances();
    const active = this.#assigned.filter((tp) => !this.#paused.has(tpKey(tp)));
    const records = this.#fetch(active, maxRecords);
    if (records.length > 0) return records;
    // Nothing yet: wait for a change (new records, a rebalance) as a fetch waits on the broker.
    await this.cluster.waitForChange(options.maxWaitMs ?? 500);
    this.#check();
    if (active.length === 0) {
      await this.#applyRebalances();
      return [];
    }
    return this.#fetch(active.filter((tp) => this.#isAssigned(tp) && !this.#paused.has(tpKey(tp))), maxRecords);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.cluster.leave(this.groupId, this.#member.memberId);
  }
}
