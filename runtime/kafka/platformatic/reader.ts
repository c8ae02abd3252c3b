/** A group-less reader of fixed partitions (global stores, changelog restoration, tools). */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import type { ConsumedRecord, IsolationLevel, PollOptions, ReadToEndResult, Reader, ReaderOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { Fetcher } from './fetcher.js';
import { EARLIEST, LATEST, sortTps, tpKey } from './helpers.js';
import { listOffsetsFor } from './offsets.js';

export class PlatformaticReader implements Reader {
  readonly #client: Consumer;
  readonly #fetcher: Fetcher;
  readonly #partitions: TopicPartition[];
  readonly #isolation: IsolationLevel;

  constructor(brokers: string[], clientId: string, options: ReaderOptions) {
    this.#isolation = options.isolation ?? 'read_committed';
    // A group id is required by the class; this one never joins, commits or fetches offsets.
    this.#client = new Consumer({ clientId, bootstrapBrokers: brokers, groupId: `${clientId}-unused-${randomUUID()}`, autocommit: false, timeout: 15_000, retryDelay: 250 });
    this.#partitions = sortTps(options.partitions.map(({ topic, partition }) => ({ topic, partition })));
    this.#client.topics.trackAll(...new Set(this.#partitions.map((tp) => tp.topic)));
    this.#fetcher = new Fetcher({
      client: this.#client,
      clientId,
      isolation: this.#isolation,
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    });
  }

  async init(options: ReaderOptions): Promise<void> {
    const earliest = options.partitions.filter((p) => p.from === 'earliest');
    const latest = options.partitions.filter((p) => p.from === 'latest');
    const e = await listOffsetsFor(this.#client, earliest, EARLIEST, this.#isolation);
    const l = await listOffsetsFor(this.#client, latest, LATEST, this.#isolation);
    for (const p of options.partitions) {
      const offset = typeof p.from === 'bigint' ? p.from : p.from === 'earliest' ? e.get(tpKey(p)) : l.get(tpKey(p));
      this.#fetcher.seek(p, offset as bigint);
    }
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#fetcher.position(tp);
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#fetcher.has(tp)) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this reader`);
    this.#fetcher.seek(tp, tp.offset);
  }

  async endOffsets(): Promise<TopicPartitionOffset[]> {
    const ends = await listOffsetsFor(this.#client, this.#partitions, LATEST, this.#isolation);
    return this.#partitions.map((tp) => ({ ...tp, offset: ends.get(tpKey(tp)) as bigint }));
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    return this.#pollWithin(this.#partitions, options.maxWaitMs ?? 500, options.maxRecords ?? Number.POSITIVE_INFINITY);
  }

  async #pollWithin(partitions: readonly TopicPartition[], maxWaitMs: number, maxRecords: number, limits?: ReadonlyMap<string, bigint>): Promise<ConsumedRecord[]> {
    if (this.#fetcher.bufferedCount(partitions) === 0) {
      const { outOfRange } = await this.#fetcher.fetch(partitions, maxWaitMs);
      if (outOfRange.length > 0) throw new KafkaDriverError(`reader positions out of range: ${outOfRange.map(tpKey).join(', ')}`);
    }
    return this.#fetcher.take(partitions, maxRecords, limits);
  }

  async readToEnd(onBatch: (records: ConsumedRecord[]) => Promise<void> | void, options: { readonly timeoutMs?: number } = {}): Promise<ReadToEndResult> {
    const end = await this.endOffsets();
    const limits = new Map(end.map((e) => [tpKey(e), e.offset]));
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    let count = 0;
    for (;;) {
      const pending = this.#partitions.filter((tp) => (this.#fetcher.position(tp) as bigint) < (limits.get(tpKey(tp)) as bigint));
      if (pending.length === 0) return { records: count, end };
      if (Date.now() > deadline) {
        const where = pending.map((tp) => `${tpKey(tp)} at ${this.#fetcher.position(tp)} of ${limits.get(tpKey(tp))}`).join(', ');
        throw new KafkaDriverError(`readToEnd timed out: ${where}`);
      }
      const records = await this.#pollWithin(pending, 200, Number.POSITIVE_INFINITY, limits);
      if (records.length > 0) {
        count += records.length;
        await onBatch(records);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#fetcher.close()]);
    await this.#client.close();
  }
}
