/**
 * An in-memory Kafka cluster for unit tests of the runtime: topics and partition logs with offsets
 * and transaction markers, a transaction coordinator (epochs, open transactions, timeouts) and a
 * group coordinator (members, generations, committed offsets). Several FakeKafkaDrivers can share
 * one cluster: each plays one process, so a test can run two "workers" of a group side by side.
 * Everything happens in this process's event loop, so what a test sees is decided by the order of
 * calls, never by timing; `faults` and `until` let a test choose and observe that order.
 */
import { systemClock, type Clock } from '../../clock.js';
import { partitionForKey } from '../../partitioner.js';
import type { ConsumedRecord, GroupMetadata, IsolationLevel, ProduceResult, ProducerRecord, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { FencedError, KafkaDriverError, TransactionError } from '../errors.js';
import { VotestreamError } from '../../errors.js';
import { Faults, type FaultOp } from './fake-faults.js';
import { FakeGroup, compareTp, tpKey, type AssignmentPlan, type FakeMember, type GroupView } from './fake-groups.js';
import { PartitionLog, type LogEntry } from './fake-log.js';
import { FakeTransaction, TransactionCoordinator } from './fake-transactions.js';

export interface FakeClusterOptions {
  /** The broker's clock: record timestamps and transaction timeouts. Default: the system clock. */
  readonly clock?: Clock;
}

/** What happened on the cluster, in order: tests record these next to their own events to assert call order. */
export type ClusterEvent =
  | { readonly type: 'produced'; readonly producer: string; readonly transactional: boolean; readonly offsets: readonly TopicPartitionOffset[]; readonly records: number }
  | { readonly type: 'transaction-committed' | 'transaction-aborted'; readonly transactionalId: string; readonly partitions: readonly TopicPartition[] }
  | { readonly type: 'offsets-committed'; readonly groupId: string; readonly via: 'transaction' | 'commitSync'; readonly offsets: readonly TopicPartitionOffset[] }
  | { readonly type: 'rebalance'; readonly groupId: string; readonly generation: number; readonly members: readonly string[] };

export interface UntilOptions {
  /** Fails the wait (not the condition) after this long, with `description`. Default 4 000: under vitest's default test timeout, so the description is what a failing test reports. */
  readonly timeoutMs?: number;
  readonly description?: string;
}

export class FakeCluster {
  readonly clock: Clock;
  /** Injected faults and gates; see fake-faults.ts. */
  readonly faults = new Faults();
  readonly transactions = new TransactionCoordinator();
  readonly #topics = new Map<string, PartitionLog[]>();
  readonly #roundRobin = new Map<string, number>();
  readonly #groups = new Map<string, FakeGroup>();
  readonly #listeners = new Set<(event: ClusterEvent) => void>();
  /** Waiters for data or coordinator changes (polls, require_stable reads). */
  #changeWaiters = new Set<() => void>();
  /** Waiters of `until`: woken by every call too, so conditions on client state are re-checked. */
  #watchers = new Set<() => void>();
  #stableWaits = 0;

  constructor(options: FakeClusterOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  // ---- topics and logs ----

  /** Creates a topic; true if created, false if it existed with the same partition count. */
  createTopic(name: string, partitions: number): boolean {
    if (!Number.isInteger(partitions) || partitions < 1) throw new KafkaDriverError(`invalid partition count ${partitions} for topic ${name}`);
    const existing = this.#topics.get(name);
    if (existing !== undefined) {
      if (existing.length !== partitions) throw new KafkaDriverError(`topic ${name} exists with ${existing.length} partitions, not ${partitions}`);
      return false;
    }
    this.#topics.set(name, Array.from({ length: partitions }, (_, p) => new PartitionLog(name, p)));
    this.notify();
    return true;
  }

  deleteTopic(name: string): void {
    this.#topics.delete(name);
    this.#roundRobin.delete(name);
    this.notify();
  }

  topicNames(): string[] {
    return [...this.#topics.keys()].sort();
  }

  partitionCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.length;
  }

  log(tp: TopicPartition): PartitionLog {
    const log = this.#topics.get(tp.topic)?.[tp.partition];
    if (log === undefined) throw new KafkaDriverError(`unknown topic-partition ${tp.topic}[${tp.partition}]`);
    return log;
  }

  partitions(topic: string): TopicPartition[] {
    const n = this.partitionCount(topic);
    if (n === undefined) throw new KafkaDriverError(`topic ${topic} does not exist`);
    return Array.from({ length: n }, (_, partition) => ({ topic, partition }));
  }

  /** Every visible record of a topic, partition by partition in offset order: what a reader from the beginning would get. */
  records(topic: string, isolation: IsolationLevel = 'read_committed'): ConsumedRecord[] {
    return this.partitions(topic).flatMap((tp) => {
      const log = this.log(tp);
      return log.read(log.logStart, isolation, Number.POSITIVE_INFINITY).records;
    });
  }

  /** Every entry of a topic (hidden records and markers too), with who wrote it. */
  entries(topic: string): Array<LogEntry & TopicPartition> {
    return this.partitions(topic).flatMap((tp) => this.log(tp).entries().map((e) => ({ ...e, ...tp })));
  }

  /**
   * Appends records as one produce request: all are validated before any is written, then each
   * partition's records land contiguously, so the result's base offsets are exact.
   */
  append(records: readonly ProducerRecord[], producer: string, txn: FakeTransaction | null): ProduceResult {
    const placed = records.map((r) => ({ r, log: this.log({ topic: r.topic, partition: this.#partitionFor(r) }) }));
    const base = new Map<PartitionLog, bigint>();
    const now = this.clock.nowMs();
    for (const { r, log } of placed) {
      const offset = log.append({ timestamp: r.timestamp ?? now, key: r.key, value: r.value, headers: r.headers ?? [] }, txn?.state ?? null, producer);
      if (!base.has(log)) base.set(log, offset);
      txn?.partitions.add(log);
    }
    const offsets = [...base].map(([log, offset]) => ({ topic: log.topic, partition: log.partition, offset })).sort(compareTp);
    if (records.length > 0) {
      this.#emit({ type: 'produced', producer, transactional: txn !== null, offsets, records: records.length });
      this.notify();
    }
    return { offsets };
  }

  #partitionFor(r: ProducerRecord): number {
    const count = this.partitionCount(r.topic);
    if (count === undefined) throw new KafkaDriverError(`topic ${r.topic} does not exist`);
    if (r.partition !== undefined) {
      if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= count) {
        throw new KafkaDriverError(`partition ${r.partition} does not exist in topic ${r.topic} (${count} partitions)`);
      }
      return r.partition;
    }
    if (r.key !== null) return partitionForKey(r.key, count);
    if (r.sourcePartition !== undefined) return r.sourcePartition % count;
    const next = this.#roundRobin.get(r.topic) ?? 0;
    this.#roundRobin.set(r.topic, next + 1);
    return next % count;
  }

  // ---- transactions ----

  /** InitProducerId: a new epoch for the id, which fences older producers and aborts their open transaction. */
  initProducer(transactionalId: string): number {
    const s = this.transactions.state(transactionalId);
    if (s.open !== null) this.endTransaction(s.open, false);
    return ++s.epoch;
  }

  /** As if another process initialised the same transactional id: the current producer is a zombie from its next call on. */
  fenceProducer(transactionalId: string): void {
    this.initProducer(transactionalId);
  }

  /** Throws FencedError('producer') unless `epoch` is the id's current one. */
  checkEpoch(transactionalId: string, epoch: number): void {
    if (this.transactions.state(transactionalId).epoch !== epoch) {
      throw new FencedError('producer', `producer ${transactionalId} was fenced (PRODUCER_FENCED): epoch ${epoch} is stale`);
    }
  }

  beginTransaction(transactionalId: string, epoch: number, timeoutMs: number): FakeTransaction {
    this.checkEpoch(transactionalId, epoch);
    const s = this.transactions.state(transactionalId);
    if (s.open !== null) throw new TransactionError(`a transaction of ${transactionalId} is already open`);
    s.open = new FakeTransaction(transactionalId, epoch, this.clock.nowMs(), timeoutMs);
    return s.open;
  }

  /** Writes the markers; on commit, the transaction's offsets become the groups' committed offsets. */
  endTransaction(txn: FakeTransaction, commit: boolean): void {
    if (txn.state.status !== 'open') throw new TransactionError(`transaction of ${txn.transactionalId} already ${txn.state.status}`);
    txn.state.status = commit ? 'committed' : 'aborted';
    const now = this.clock.nowMs();
    for (const log of txn.partitions) log.appendMarker(txn.state, now);
    const s = this.transactions.state(txn.transactionalId);
    if (s.open === txn) s.open = null;
    const partitions = [...txn.partitions].map((l) => ({ topic: l.topic, partition: l.partition })).sort(compareTp);
    this.#emit({ type: commit ? 'transaction-committed' : 'transaction-aborted', transactionalId: txn.transactionalId, partitions });
    if (commit) {
      for (const [groupId, offsets] of txn.offsets) this.#applyOffsets(groupId, [...offsets.values()], 'transaction');
    }
    this.notify();
  }

  /**
   * Aborts every open transaction older than its timeout by the cluster clock, and bumps its
   * epoch (as the broker does), so its producer is fenced. Checked at every faultable call; call
   * it directly after moving a manual clock. Returns how many were aborted.
   */
  expireTransactions(): number {
    const now = this.clock.nowMs();
    const expired = this.transactions.open().filter((t) => now - t.startedMs > t.timeoutMs);
    for (const t of expired) {
      this.endTransaction(t, false);
      this.transactions.state(t.transactionalId).epoch++;
    }
    return expired.length;
  }

  // ---- groups ----

  group(groupId: string): FakeGroup {
    let g = this.#groups.get(groupId);
    if (g === undefined) this.#groups.set(groupId, (g = new FakeGroup(groupId)));
    return g;
  }

  groupView(groupId: string): GroupView {
    return this.group(groupId).view();
  }

  groupIds(): string[] {
    return [...this.#groups.keys()].sort();
  }

  /** A member joins (replacing a static member with the same instance id); the group rebalances. */
  join(groupId: string, member: { readonly clientId: string; readonly groupInstanceId: string | null; readonly topics: readonly string[] }): FakeMember {
    const g = this.group(groupId);
    if (member.groupInstanceId !== null) {
      for (const m of g.members.values()) if (m.groupInstanceId === member.groupInstanceId) g.members.delete(m.memberId);
    }
    const joined: FakeMember = { memberId: g.newMemberId(member.clientId), clientId: member.clientId, groupInstanceId: member.groupInstanceId, topics: [...member.topics], assignment: [] };
    g.members.set(joined.memberId, joined);
    this.rebalance(groupId);
    return joined;
  }

  /** Leaves the group (close()); the others rebalance at once. */
  leave(groupId: string, memberId: string): void {
    const g = this.group(groupId);
    if (g.members.delete(memberId)) this.rebalance(groupId);
  }

  /**
   * As if the member's session timed out: it is out of the group, which rebalances without it. Its
   * next poll rejoins with a new member id, as the real client does in the background.
   */
  removeMember(groupId: string, memberId: string): void {
    this.leave(groupId, memberId);
  }

  /** A new generation for the group: the range assignment, or `plan`. Members see it at their next poll. */
  rebalance(groupId: string, plan?: AssignmentPlan): number {
    const g = this.group(groupId);
    const generation = g.rebalance((topic) => this.partitionCount(topic), plan);
    this.#emit({ type: 'rebalance', groupId, generation, members: [...g.members.keys()] });
    this.notify();
    return generation;
  }

  /** KIP-447's check on TxnOffsetCommit (and the coordinator's on OffsetCommit): the member and generation must be current. */
  checkGeneration(meta: GroupMetadata): void {
    const g = this.group(meta.groupId);
    if (!g.members.has(meta.memberId)) {
      throw new FencedError('group', `member ${meta.memberId} is not in group ${meta.groupId} (UNKNOWN_MEMBER_ID)`);
    }
    if (g.generation !== meta.generationId) {
      throw new FencedError('group', `generation ${meta.generationId} of group ${meta.groupId} is stale, current is ${g.generation} (ILLEGAL_GENERATION)`);
    }
  }

  commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): void {
    this.#applyOffsets(groupId, offsets, 'commitSync');
    this.notify();
  }

  #applyOffsets(groupId: string, offsets: readonly TopicPartitionOffset[], via: 'transaction' | 'commitSync'): void {
    const g = this.group(groupId);
    const applied = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })).sort(compareTp);
    for (const o of applied) g.committed.set(tpKey(o), o);
    if (applied.length > 0) this.#emit({ type: 'offsets-committed', groupId, via, offsets: applied });
  }

  /** The committed offset now, not waiting for open transactions (for assertions); null when none. */
  committedOffset(groupId: string, tp: TopicPartition): bigint | null {
    return this.#groups.get(groupId)?.committed.get(tpKey(tp))?.offset ?? null;
  }

  /**
   * Committed offsets with require_stable: waits while an open transaction holds offsets of the
   * group for any of the partitions (its commit would change them), as the broker answers
   * UNSTABLE_OFFSET_COMMIT and the real driver retries. Gives up after `timeoutMs` of wall time.
   * `requireStable` false plays a client without KIP-447 (kafkajs): the offsets as they are now.
   */
  async stableCommitted(groupId: string, partitions: readonly TopicPartition[], requireStable = true, timeoutMs = 60_000): Promise<Map<string, bigint>> {
    const deadline = Date.now() + timeoutMs;
    while (requireStable) {
      this.expireTransactions();
      const unstable = partitions.filter((tp) => this.transactions.unstable(groupId, tpKey(tp)));
      if (unstable.length === 0) break;
      if (Date.now() > deadline) throw new KafkaDriverError(`committed offsets of group ${groupId} stayed unstable (UNSTABLE_OFFSET_COMMIT) for ${unstable.map(tpKey).join(', ')}`);
      this.#stableWaits++;
      this.touch();
      try {
        // Woken by the transaction's end; the short bound only lets a timeout by the system clock be noticed.
        await this.waitForChange(100);
      } finally {
        this.#stableWaits--;
      }
    }
    const g = this.#groups.get(groupId);
    const out = new Map<string, bigint>();
    for (const tp of partitions) {
      const c = g?.committed.get(tpKey(tp));
      if (c !== undefined) out.set(tpKey(tp), c.offset);
    }
    return out;
  }

  /** How many committed-offset reads are waiting for a transaction to end right now (see `stableCommitted`). */
  get unstableWaits(): number {
    return this.#stableWaits;
  }

  /** Like DeleteGroups: refused while the group has members. */
  deleteGroup(groupId: string): void {
    const g = this.#groups.get(groupId);
    if (g !== undefined && g.members.size > 0) throw new KafkaDriverError(`group ${groupId} is not empty (NON_EMPTY_GROUP)`);
    this.#groups.delete(groupId);
  }

  // ---- signalling ----

  /** Every faultable call starts here: watchers re-check, expired transactions end, then faults apply. */
  async enter(op: FaultOp, driver: string, target: string): Promise<void> {
    this.touch();
    this.expireTransactions();
    await this.faults.enter({ op, driver, target });
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: ClusterEvent): void {
    for (const l of this.#listeners) l(event);
  }

  /** Data or coordinator state changed: wakes waiting polls and `until` conditions. */
  notify(): void {
    const waiters = this.#changeWaiters;
    this.#changeWaiters = new Set();
    for (const w of waiters) w();
    this.touch();
  }

  /** A call was made: wakes `until` conditions only (waking polls here would make idle members spin each other). */
  touch(): void {
    const watchers = this.#watchers;
    this.#watchers = new Set();
    for (const w of watchers) w();
  }

  /** Resolves at the next change, or after `ms` (a poll's maxWaitMs). */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#changeWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#changeWaiters.add(wake);
    });
  }

  /**
   * Resolves once `condition` holds, re-checking it after every change and every client call
   * (so conditions on a stream thread's state are seen at its next poll): an event to wait on,
   * not a sleep. Rejects after `timeoutMs` so a broken test fails with a message instead of hanging.
   */
  async until(condition: () => boolean, options: UntilOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 4_000;
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new VotestreamError('FAKE_CLUSTER_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()) + 1);
        const watchers = this.#watchers;
        function wake(): void {
          clearTimeout(timer);
          watchers.delete(wake);
          resolve();
        }
        watchers.add(wake);
      });
    }
  }
}
