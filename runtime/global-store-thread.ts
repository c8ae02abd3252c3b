import { Counter, Gauge, type Registry } from 'prom-client';
import { InMemoryKeyValueStore } from '../statestores/in-memory-store.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { GlobalStoreCompleteness } from '../topology/global-store-completeness.js';
import type { GlobalStoreSpec } from '../topology/topology-spec.js';
import { systemClock, type Clock } from './clock.js';
import { toRawRecord } from './consumed-record.js';
import { InfrastructureError } from './errors.js';
import { GlobalStateStore, type GlobalSkipReason } from './global-state-store.js';
import type { ConsumedRecord, KafkaAdmin, KafkaDriver, Reader, TopicPartition, TopicPartitionOffset } from './kafka/driver.js';
import type { Logger } from './logger.js';

export interface GlobalStoreThreadOptions {
  readonly registry?: Registry;
  readonly clock?: Clock;
  /** How often end offsets are observed when nobody waits; default 1000 ms. */
  readonly idleObserveIntervalMs?: number;
}

interface Waiter {
  readonly timeMs: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Observation {
  readonly atMs: number;
  readonly ends: readonly TopicPartitionOffset[];
}

const RETRY_MS = 1000;
/**
 * Observations on demand start at most this often: under a steady flow of fresh records every
 * record waits for one, and back-to-back ListOffsets requests would load the broker for ~nothing.
 */
const MIN_OBSERVE_GAP_MS = 10;

/** Not a record's fault: the runtime keeps the record for a replay rather than dead-lettering it. */
function closingError(): InfrastructureError {
  return new InfrastructureError('global stores are closing: the wait for their completeness was interrupted');
}

/** The store a task sees: the in-memory table plus the thread's completeness watermark. */
class GlobalStore extends InMemoryKeyValueStore<unknown> implements GlobalStoreCompleteness {
  readonly #thread: GlobalStoreThread;
  constructor(name: string, thread: GlobalStoreThread) {
    super(name);
    this.#thread = thread;
  }
  completeUpToMs(): number {
    return this.#thread.completeUpToMs();
  }
  waitUntilCompleteUpTo(timeMs: number): Promise<void> {
    return this.#thread.waitUntilCompleteUpTo(timeMs);
  }
}

/**
 * Fills every global store from its whole topic (all partitions, read_committed) before any task
 * starts, then keeps following the topics in the background. Global stores are small reference
 * tables (elections): in memory, rebuilt at every start.
 *
 * Completeness watermark: the thread observes the topics' end offsets, noting the wall-clock time
 * taken BEFORE each request; once every applied position has reached such an observation, every
 * record appended before that time is in the stores, so they are "complete up to" it. Observations
 * run on demand when a task waits for a later instant (so a fresh vote waits about one round trip)
 * and every `idleObserveIntervalMs` otherwise. One global watermark covers all global stores.
 */
export class GlobalStoreThread {
  readonly stores = new Map<string, KeyValueStore<unknown>>();
  readonly #byTopic = new Map<string, GlobalStateStore>();
  readonly #specs: readonly GlobalStoreSpec[];
  readonly #driver: KafkaDriver;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #idleIntervalMs: number;
  readonly #skipped: Counter<'store' | 'reason'> | undefined;
  readonly #watermarkGauge: Gauge | undefined;
  #skippedCount = 0;
  #reader: Reader | undefined;
  #admin: KafkaAdmin | undefined;
  #partitions: TopicPartition[] = [];
  /** Positions up to which every record has been applied (not merely fetched). */
  #applied = new Map<string, bigint>();
  #backlog: ConsumedRecord[] = [];
  #completeUpTo = -1;
  #pending: Observation | undefined;
  #pendingReached: (() => void) | undefined;
  #waiters: Waiter[] = [];
  #kick: (() => void) | undefined;
  #stopping = false;
  #interrupted = false;
  #lastObservationMs = Number.NEGATIVE_INFINITY;
  #loops: Promise<void>[] = [];

  constructor(specs: readonly GlobalStoreSpec[], driver: KafkaDriver, logger: Logger, options: GlobalStoreThreadOptions = {}) {
    this.#specs = specs;
    this.#driver = driver;
    this.#log = logger.child({ thread: 'global' });
    this.#clock = options.clock ?? systemClock;
    this.#idleIntervalMs = options.idleObserveIntervalMs ?? 1000;
    const registers = options.registry === undefined ? undefined : [options.registry];
    if (registers !== undefined && specs.length > 0) {
      this.#skipped = new Counter({
        name: 'votestream_global_records_skipped_total',
        help: 'global table records skipped: undecodable, or refused by the table (merge)',
        labelNames: ['store', 'reason'],
        registers,
      });
      this.#watermarkGauge = new Gauge({ name: 'votestream_global_complete_up_to_ms', help: 'wall-clock ms up to which the global stores are known complete', registers });
    }
  }

  /** Records skipped since start, all stores (the metric's sum). */
  get skippedRecords(): number {
    return this.#skippedCount;
  }

  completeUpToMs(): number {
    return this.#completeUpTo;
  }

  waitUntilCompleteUpTo(timeMs: number): Promise<void> {
    if (this.#completeUpTo >= timeMs) return Promise.resolve();
    if (this.#stopping || this.#interrupted) return Promise.reject(closingError());
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ timeMs, resolve, reject });
      this.#kick?.();
    });
  }

  /** Resolves once every global topic has been read to its end. */
  async start(partitionCounts: ReadonlyMap<string, number>): Promise<void> {
    if (this.#specs.length === 0) return;
    for (const spec of this.#specs) {
      const store = new GlobalStore(spec.storeName, this);
      await store.open();
      this.stores.set(spec.storeName, store);
      this.#byTopic.set(spec.topic, new GlobalStateStore(spec, store, this.#log, (reason) => this.#countSkip(spec.storeName, reason)));
    }
    this.#partitions = this.#specs.flatMap((spec) => Array.from({ length: partitionCounts.get(spec.topic) ?? 1 }, (_, partition) => ({ topic: spec.topic, partition })));
    this.#reader = await this.#driver.createReader({
      partitions: this.#partitions.map((tp) => ({ ...tp, from: 'earliest' as const })),
      isolation: 'read_committed',
      clientId: 'global-stores',
    });
    this.#admin = this.#driver.createAdmin({ clientId: 'global-stores-watermark' });
    const started = this.#clock.nowMs();
    // readToEnd takes its end offsets after this instant, so reaching them makes the stores complete up to it.
    const result = await this.#reader.readToEnd((batch) => this.#applyAll(batch, true));
    this.#snapshotApplied();
    this.#advance(started);
    this.#log.info({ topics: this.#specs.map((s) => s.topic), records: result.records, skipped: this.#skippedCount, ms: this.#clock.nowMs() - started }, 'global stores loaded');
    this.#loops = [this.#follow(), this.#observe()];
  }

  #countSkip(store: string, reason: GlobalSkipReason): void {
    this.#skippedCount++;
    this.#skipped?.inc({ store, reason });
  }

  async #applyAll(batch: readonly ConsumedRecord[], strict: boolean): Promise<void> {
    for (const r of batch) await this.#byTopic.get(r.topic)?.update(toRawRecord(r), { strict });
  }

  async #follow(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (this.#backlog.length === 0) this.#backlog = await this.#reader!.poll({ maxWaitMs: 500 });
        // One record at a time, removed only once applied: a store error retries that record and
        // keeps the rest of the batch, which the reader will not hand out again.
        while (this.#backlog.length > 0) {
          const r = this.#backlog[0];
          await this.#byTopic.get(r.topic)?.update(toRawRecord(r), { strict: false });
          this.#backlog.shift();
        }
        this.#snapshotApplied();
        this.#checkPending();
      } catch (err) {
        if (this.#stopping) return;
        this.#log.warn({ err: (err as Error).message, backlog: this.#backlog.length }, 'global store update failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  #snapshotApplied(): void {
    for (const tp of this.#partitions) {
      const position = this.#reader!.position(tp);
      if (position !== undefined) this.#applied.set(`${tp.topic}\u0000${tp.partition}`, position);
    }
  }

  #checkPending(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    for (const end of pending.ends) {
      const applied = this.#applied.get(`${end.topic}\u0000${end.partition}`);
      if (applied === undefined || applied < end.offset) return;
    }
    this.#pending = undefined;
    this.#advance(pending.atMs);
    this.#pendingReached?.();
  }

  #advance(atMs: number): void {
    if (atMs <= this.#completeUpTo) return;
    this.#completeUpTo = atMs;
    this.#watermarkGauge?.set(atMs);
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.timeMs <= atMs) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Observes end offsets: at once when a waiter needs a later instant that has passed, at that instant when it is ahead, otherwise every idle interval. */
  async #observe(): Promise<void> {
    const topics = this.#specs.map((s) => s.topic);
    while (!this.#stopping) {
      const now = this.#clock.nowMs();
      let wanted = Number.POSITIVE_INFINITY;
      for (const w of this.#waiters) if (w.timeMs < wanted) wanted = w.timeMs;
      const due = wanted === Number.POSITIVE_INFINITY ? this.#lastObservationMs + this.#idleIntervalMs : Math.max(wanted, this.#lastObservationMs + MIN_OBSERVE_GAP_MS);
      const delay = Math.max(0, due - now);
      if (delay > 0) {
        await this.#sleep(delay);
        continue;
      }
      try {
        const atMs = this.#clock.nowMs();
        this.#lastObservationMs = atMs;
        const ends = await this.#admin!.endOffsets(topics, 'read_committed');
        if (this.#stopping) return;
        const reached = new Promise<void>((resolve) => (this.#pendingReached = resolve));
        this.#pending = { atMs, ends };
        this.#checkPending();
        await reached;
      } catch (err) {
        if (this.#stopping) return;
        this.#log.warn({ err: (err as Error).message }, 'global store end offsets unavailable; retrying');
        await this.#sleep(RETRY_MS);
      }
    }
  }

  /** Sleeps, cut short by a new waiter or by stop (only the observer sleeps this way). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#kick === done) this.#kick = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#kick = done;
    });
  }

  /**
   * Fails every wait, now and from now on, while the stores keep following: lets a shutdown finish
   * the tasks' current records without waiting for an instant the reader cannot reach (Kafka down,
   * a vote stamped ahead). The waiting records are not judged; they are replayed after a restart.
   */
  interruptWaits(): void {
    this.#interrupted = true;
    for (const w of this.#waiters) w.reject(closingError());
    this.#waiters = [];
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#kick?.();
    this.#pendingReached?.();
    this.interruptWaits();
    await Promise.all(this.#loops);
    await this.#reader?.close();
    await this.#admin?.close();
    for (const store of this.stores.values()) await store.close();
  }
}
