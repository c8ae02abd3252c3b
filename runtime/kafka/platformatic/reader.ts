/** A group-less reader of fixed partitions (global stores, changelog restoration, tools). */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import type { ConsumedRecord, IsolationLevel, PollOptions, ReadToEndResult, Reader, ReaderOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { Fetcher } from './fetcher.js';
import { EARLIEST, LATEST, sortTps, tpKey } from './helpers.js';
import { listOffsetsFor } from './offsets.js';
import { readToEnd } from '../read-to-end.js';

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

  readToEnd(onBatch: (records: ConsumedRecord[]) => Promise<void> | void, options: { readonly timeoutMs?: number } = {}): Promise<ReadToEndResult> {
    return readToEnd(
      {
        partitions: this.#partitions,
        position: (tp) => this.#fetcher.position(tp),
        endOffsets: () => this.endOffsets(),
        pollWithin: (partitions, maxWaitMs, limits) => this.#pollWithin(partitions, maxWaitMs, Number.POSITIVE_INFINITY, limits),
      },
      onBatch,
      options,
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#fetcher.close()]);
    await this.#client.close();
  }
}
