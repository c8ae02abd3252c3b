/**
 * Turns kafkajs' push model (`consumer.run({ eachBatch })`, kafkajs 2.2.4) into the driver's pull model
 * (`poll()`), for the group consumer and the reader.
 *
 * Each batch kafkajs hands over is parked here, and its `eachBatch` call stays pending, until poll() has
 * taken all its records; only then is the batch's last offset resolved, so kafkajs fetches the next one.
 * kafkajs fetches a partition again only after its batch settled, so nothing is prefetched beyond one
 * batch per partition. Positions are ours (the next offset poll() returns); kafkajs' fetch position is
 * realigned with `seek` wherever the two can differ:
 * - a batch released before it was all taken (pause, seek, revoke): kafkajs is sought to our position;
 * - after every (re)join kafkajs restarts each partition from the committed offset: kafkajs is sought to
 *   our position for the partitions we keep (`realign`), and a batch of a partition whose kafkajs position
 *   is unknown that starts past our position makes us seek it.
 * Control records and aborted transactions are filtered by kafkajs (read_committed); a batch's end is
 * `batch.lastOffset() + 1`, which counts them, as the Java consumer's position does. A batch that held
 * nothing else never reaches eachBatch (kafkajs 2.2.4, runner.js `isEmptyDueToFiltering`): kafkajs moves
 * its own fetch position past it and tells only its START_BATCH_PROCESS event, which moves ours too.
 * Without that, a partition whose tail is an aborted transaction never reaches its end.
 *
 * While a batch is parked, `eachBatch` heartbeats on its own (kafkajs 2.2.4 heartbeats only between
 * batches, so a batch the application holds longer than the session timeout would cost the membership).
 */
import type { Batch, Consumer, ConsumerStartBatchProcessEvent, EachBatchPayload } from 'kafkajs';
import type { ConsumedRecord, TopicPartition } from '../driver.js';
import { tpKey } from '../platformatic/helpers.js';
import { fromKafkajsMessage } from './records.js';

interface Parked {
  readonly tp: TopicPartition;
  readonly records: ConsumedRecord[];
  next: number;
  /** Offset after the batch, control records included. */
  readonly end: bigint;
  /** Settles the pending eachBatch: 'taken' resolves the batch in kafkajs, 'dropped' leaves it unresolved. */
  readonly settle: (outcome: 'taken' | 'dropped') => void;
}

export interface BatchPumpOptions {
  readonly consumer: Consumer;
  readonly heartbeatIntervalMs: number;
}

export class BatchPump {
  readonly #consumer: Consumer;
  readonly #heartbeatIntervalMs: number;
  /** Next offset poll() returns, per partition this pump delivers. */
  readonly #positions = new Map<string, bigint>();
  /** Where kafkajs will fetch next, when known. */
  readonly #kafkajsNext = new Map<string, bigint>();
  readonly #parked = new Map<string, Parked>();
  readonly #paused = new Set<string>();
  #waiters: Array<() => void> = [];
  #closed = false;

  constructor(options: BatchPumpOptions) {
    this.#consumer = options.consumer;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#consumer.on(this.#consumer.events.START_BATCH_PROCESS, (event: ConsumerStartBatchProcessEvent) => this.#skipFiltered(event.payload));
  }

  /** A fetched batch of only aborted records and markers, which kafkajs skipped without handing it over. */
  #skipFiltered(batch: ConsumerStartBatchProcessEvent['payload']): void {
    if (batch.batchSize > 0) return;
    const key = tpKey(batch);
    const position = this.#positions.get(key);
    if (position === undefined || this.#parked.has(key)) return;
    const last = BigInt(batch.lastOffset);
    const first = batch.firstOffset === null ? last : BigInt(batch.firstOffset);
    // Only a batch fetched from our position (or one that covers it): after a seek elsewhere the
    // event may be of a fetch from before it.
    if (position > last || (this.#kafkajsNext.get(key) !== position && position < first)) return;
    this.#positions.set(key, last + 1n);
    this.#kafkajsNext.set(key, last + 1n);
    this.wakeUp();
  }

  /** Wakes a poll() waiting for data (a batch arrived, a rebalance is pending, the consumer closes). */
  wakeUp(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until a batch of one of `partitions` is parked, wakeUp() is called, or `ms` pass. */
  async waitForData(partitions: readonly TopicPartition[], ms: number): Promise<void> {
    if (this.bufferedCount(partitions) > 0 || this.#closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#positions.get(tpKey(tp));
  }

  has(tp: TopicPartition): boolean {
    return this.#positions.has(tpKey(tp));
  }

  /** Sets the position; a parked batch of the partition is dropped and kafkajs fetches from there. */
  seek(tp: TopicPartition, offset: bigint): void {
    const key = tpKey(tp);
    this.#positions.set(key, offset);
    this.#drop(key);
    this.#seekKafkajs(tp, offset);
    this.wakeUp();
  }

  #seekKafkajs(tp: TopicPartition, offset: bigint): void {
    this.#kafkajsNext.set(tpKey(tp), offset);
    this.#consumer.seek({ topic: tp.topic, partition: tp.partition, offset: offset.toString() });
  }

  /** Stops delivering a partition (revoked): forgets its position and drops its parked batch. */
  remove(tp: TopicPartition): void {
    const key = tpKey(tp);
    this.#drop(key);
    this.#positions.delete(key);
    this.#kafkajsNext.delete(key);
    this.#paused.delete(key);
  }

  /**
   * After kafkajs (re)joined: every parked batch belongs to the old generation's fetch, and kafkajs
   * restarts every partition from its committed offset. Kept partitions are sought back to our position.
   */
  realign(assigned: readonly TopicPartition[]): void {
    for (const key of [...this.#parked.keys()]) this.#drop(key);
    this.#kafkajsNext.clear();
    for (const tp of assigned) {
      const position = this.#positions.get(tpKey(tp));
      if (position !== undefined) this.#seekKafkajs(tp, position);
    }
    this.wakeUp();
  }

  pause(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const key = tpKey(tp);
      if (this.#paused.has(key)) continue;
      this.#paused.add(key);
      this.#consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
      const parked = this.#parked.get(key);
      if (parked) {
        this.#drop(key);
        const position = this.#positions.get(key);
        if (position !== undefined) this.#seekKafkajs(tp, position);
      }
    }
  }

  resume(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      if (!this.#paused.delete(tpKey(tp))) continue;
      this.#consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
    }
  }

  isPaused(tp: TopicPartition): boolean {
    return this.#paused.has(tpKey(tp));
  }

  #drop(key: string): void {
    const parked = this.#parked.get(key);
    if (!parked) return;
    this.#parked.delete(key);
    parked.settle('dropped');
  }

  bufferedCount(partitions: readonly TopicPartition[]): number {
    let n = 0;
    for (const tp of partitions) {
      const parked = this.#parked.get(tpKey(tp));
      if (parked && !this.#paused.has(tpKey(tp))) n += parked.records.length - parked.next;
    }
    return n;
  }

  /**
   * Takes up to `max` parked records of `partitions`, partition by partition, advancing the positions.
   * With `limits`, no record at or past its partition's limit is taken; a partition whose next record is
   * past it (aborted records or markers in between) is positioned at the limit.
   */
  take(partitions: readonly TopicPartition[], max: number, limits?: ReadonlyMap<string, bigint>): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const tp of partitions) {
      if (out.length >= max) break;
      const key = tpKey(tp);
      const parked = this.#parked.get(key);
      if (!parked || this.#paused.has(key)) continue;
      const limit = limits?.get(key);
      while (parked.next < parked.records.length && out.length < max) {
        const record = parked.records[parked.next];
        if (limit !== undefined && record.offset >= limit) {
          if ((this.#positions.get(key) as bigint) < limit) this.#positions.set(key, limit);
          break;
        }
        parked.next++;
        out.push(record);
        this.#positions.set(key, record.offset + 1n);
      }
      if (parked.next === parked.records.length) this.#finish(key, parked);
    }
    return out;
  }

  #finish(key: string, parked: Parked): void {
    this.#parked.delete(key);
    const position = this.#positions.get(key) as bigint;
    if (parked.end > position) this.#positions.set(key, parked.end);
    this.#kafkajsNext.set(key, parked.end);
    parked.settle('taken');
  }

  /** The eachBatch handler given to kafkajs' consumer.run. */
  readonly eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, resolveOffset, heartbeat, isStale } = payload;
    const tp: TopicPartition = { topic: batch.topic, partition: batch.partition };
    const key = tpKey(tp);
    let failure: unknown = null;
    let wakeBatch: () => void = () => undefined;
    const ticker = setInterval(() => {
      heartbeat().catch((error: unknown) => {
        failure ??= error;
        this.#drop(key);
        wakeBatch();
      });
    }, this.#heartbeatIntervalMs);
    try {
      // A partition whose assignment poll() has not delivered yet has no position: wait for it.
      while (!this.#positions.has(key) && !this.#closed && failure === null && !isStale()) {
        await new Promise<void>((resolve) => {
          wakeBatch = resolve;
          this.#waiters.push(resolve);
        });
      }
      if (failure !== null) throw failure;
      if (this.#closed || isStale() || this.#paused.has(key) || this.#parked.has(key)) return;
      const outcome = await this.#park(tp, batch, (wake) => (wakeBatch = wake));
      if (failure !== null) throw failure;
      if (outcome === 'taken') resolveOffset(batch.lastOffset());
    } finally {
      clearInterval(ticker);
    }
  };

  #park(tp: TopicPartition, batch: Batch, onWake: (wake: () => void) => void): Promise<'taken' | 'dropped'> {
    const key = tpKey(tp);
    const position = this.#positions.get(key) as bigint;
    const first = batch.messages.length > 0 ? BigInt(batch.messages[0].offset) : BigInt(batch.firstOffset() ?? batch.lastOffset());
    if (!this.#kafkajsNext.has(key) && first > position) {
      // kafkajs fetched from its own idea of the start (the committed offset after a join): refetch from ours.
      this.#seekKafkajs(tp, position);
      return Promise.resolve('dropped');
    }
    const records: ConsumedRecord[] = [];
    for (const m of batch.messages) {
      const record = fromKafkajsMessage(tp.topic, tp.partition, m);
      if (record.offset >= position) records.push(record);
    }
    return new Promise((resolve) => {
      const parked: Parked = { tp, records, next: 0, end: BigInt(batch.lastOffset()) + 1n, settle: resolve };
      onWake(() => this.#drop(key));
      this.#parked.set(key, parked);
      if (records.length === 0) this.#finish(key, parked);
      else this.wakeUp();
    });
  }

  /** Releases every pending eachBatch (unresolved) and wakes poll(). */
  close(): void {
    this.#closed = true;
    for (const key of [...this.#parked.keys()]) this.#drop(key);
    this.wakeUp();
  }
}
