/**
 * Fetching for the group consumer and the reader, with the Fetch API of @platformatic/kafka 1.35.0
 * rather than its MessagesStream: a pull API, so that rebalance callbacks are awaited before anything is
 * fetched, with no prefetching, no auto-commit, and the read_committed filter of decode.ts (the
 * library's leaks aborted transactions, see there).
 */
import { ConnectionPool, kGetApi, type API, type ClusterMetadata, type Consumer, type fetchV17 } from '@platformatic/kafka';
import type { ConsumedRecord, IsolationLevel, TopicPartition } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { decodePartition } from './decode.js';
import { describe, fetchFailureIsFatal, findResponse } from './error-mapping.js';
import { isolationCode, tpKey } from './helpers.js';

type FetchArgs = Parameters<typeof fetchV17.createRequest>;

export interface FetcherOptions {
  readonly client: Consumer;
  readonly clientId: string;
  readonly isolation: IsolationLevel;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

export interface FetchOutcome {
  /** Partitions whose position is outside the log (OFFSET_OUT_OF_RANGE): the owner must reset them. */
  readonly outOfRange: TopicPartition[];
}

/** Positions, buffered records and the Fetch requests for a set of partitions. */
export class Fetcher {
  readonly #o: FetcherOptions;
  readonly #pool: ConnectionPool;
  /** Next offset to fetch, per partition. */
  readonly #fetchPositions = new Map<string, bigint>();
  /** Records fetched but not yet handed to the application, per partition, in offset order. */
  readonly #buffers = new Map<string, ConsumedRecord[]>();
  #consecutiveFailures = 0;

  constructor(options: FetcherOptions) {
    this.#o = options;
    // A pool of its own: a fetch waiting on the broker must not delay heartbeats or group requests.
    this.#pool = new ConnectionPool(`${options.clientId}-fetch`, { requestTimeout: 60_000 });
  }

  has(tp: TopicPartition): boolean {
    return this.#fetchPositions.has(tpKey(tp));
  }

  position(tp: TopicPartition): bigint | undefined {
    const key = tpKey(tp);
    const buffered = this.#buffers.get(key);
    if (buffered && buffered.length > 0) return buffered[0].offset;
    return this.#fetchPositions.get(key);
  }

  seek(tp: TopicPartition, offset: bigint): void {
    const key = tpKey(tp);
    this.#fetchPositions.set(key, offset);
    this.#buffers.delete(key);
  }

  remove(tp: TopicPartition): void {
    const key = tpKey(tp);
    this.#fetchPositions.delete(key);
    this.#buffers.delete(key);
  }

  bufferedCount(partitions: readonly TopicPartition[]): number {
    let n = 0;
    for (const tp of partitions) n += this.#buffers.get(tpKey(tp))?.length ?? 0;
    return n;
  }

  /** Takes up to maxRecords buffered records, partition by partition, never at or past `limits` for a partition. */
  take(partitions: readonly TopicPartition[], maxRecords: number, limits?: ReadonlyMap<string, bigint>): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const tp of partitions) {
      if (out.length >= maxRecords) break;
      const key = tpKey(tp);
      const buffered = this.#buffers.get(key);
      if (!buffered || buffered.length === 0) continue;
      const limit = limits?.get(key);
      let n = 0;
      while (n < buffered.length && out.length + n < maxRecords && (limit === undefined || buffered[n].offset < limit)) n++;
      if (n === 0) continue;
      for (let i = 0; i < n; i++) out.push(buffered[i]);
      buffered.splice(0, n);
    }
    return out;
  }

  /** One Fetch per leader for the partitions that have nothing buffered; fills the buffers. */
  async fetch(partitions: readonly TopicPartition[], maxWaitMs: number): Promise<FetchOutcome> {
    const wanted = partitions.filter((tp) => this.#fetchPositions.has(tpKey(tp)) && (this.#buffers.get(tpKey(tp))?.length ?? 0) === 0);
    if (wanted.length === 0) return { outOfRange: [] };
    const client = this.#o.client;
    let metadata: ClusterMetadata;
    try {
      metadata = await client.metadata({ topics: [...new Set(wanted.map((tp) => tp.topic))] });
    } catch (error) {
      return this.#failed(error);
    }
    const byLeader = new Map<number, Map<string, fetchV17.FetchRequestPartition[]>>();
    const topicNames = new Map<string, string>();
    for (const tp of wanted) {
      const tmd = metadata.topics.get(tp.topic);
      const pmd = tmd?.partitions[tp.partition];
      if (!tmd || !pmd) throw new KafkaDriverError(`no metadata for ${tpKey(tp)}`);
      topicNames.set(tmd.id, tp.topic);
      let topics = byLeader.get(pmd.leader);
      if (!topics) byLeader.set(pmd.leader, (topics = new Map()));
      let list = topics.get(tmd.id);
      if (!list) topics.set(tmd.id, (list = []));
      list.push({
        partition: tp.partition,
        fetchOffset: this.#fetchPositions.get(tpKey(tp)) as bigint,
        partitionMaxBytes: this.#o.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
    }
    const api = await new Promise<API<FetchArgs, fetchV17.FetchResponse>>((resolve, reject) => {
      client[kGetApi]<FetchArgs, fetchV17.FetchResponse>('Fetch', (error, found) => (error || !found ? reject(error ?? new KafkaDriverError('no Fetch API')) : resolve(found)));
    });
    const outOfRange: TopicPartition[] = [];
    const isolation = isolationCode(this.#o.isolation);
    const requested = new Map(wanted.map((tp) => [tpKey(tp), this.#fetchPositions.get(tpKey(tp)) as bigint]));
    const results = await Promise.allSettled(
      [...byLeader].map(async ([leader, topics]) => {
        const broker = metadata.brokers.get(leader);
        if (!broker) throw new KafkaDriverError(`unknown leader ${leader}`);
        const connection = await this.#pool.get(broker);
        const request: fetchV17.FetchRequestTopic[] = [...topics].map(([topicId, parts]) => ({ topicId, partitions: parts }));
        try {
          return await api.async(connection, maxWaitMs, 1, this.#o.maxBytes, isolation, 0, -1, request, [], '');
        } catch (error) {
          // Partition-level errors: the response is still there for the partitions without one.
          const response = findResponse<fetchV17.FetchResponse>(error, (r) => Array.isArray((r as { responses?: unknown }).responses));
          if (response && response.errorCode === 0) return response;
          throw error;
        }
      }),
    );
    let failure: unknown = null;
    for (const result of results) {
      if (result.status === 'rejected') {
        failure ??= result.reason;
        continue;
      }
      for (const topicResponse of result.value.responses) {
        const topic = topicNames.get(topicResponse.topicId);
        if (topic === undefined) continue;
        for (const p of topicResponse.partitions) {
          const tp = { topic, partition: p.partitionIndex };
          const key = tpKey(tp);
          const from = requested.get(key);
          // Skip partitions that were not asked for, or were moved (seek/remove) while the fetch was out.
          if (from === undefined || this.#fetchPositions.get(key) !== from) continue;
          if (p.errorCode !== 0) {
            if (p.errorCode === 1) outOfRange.push(tp);
            else failure ??= new KafkaDriverError(`fetch ${key} failed with error code ${p.errorCode}`);
            continue;
          }
          const decoded = decodePartition(topic, p.partitionIndex, p, from, this.#o.isolation === 'read_committed');
          if (decoded.next !== null) this.#fetchPositions.set(key, decoded.next);
          if (decoded.records.length > 0) {
            const buffered = this.#buffers.get(key);
            if (buffered) buffered.push(...decoded.records);
            else this.#buffers.set(key, decoded.records);
          }
        }
      }
    }
    if (failure !== null) return this.#failed(failure, outOfRange);
    this.#consecutiveFailures = 0;
    return { outOfRange };
  }

  /** Transient failures (leader moves, a broker restarting) are retried by the next fetch; persistent ones surface. */
  #failed(error: unknown, outOfRange: TopicPartition[] = []): FetchOutcome {
    this.#o.client.clearMetadata();
    this.#consecutiveFailures++;
    if (fetchFailureIsFatal(error, this.#consecutiveFailures)) {
      throw new KafkaDriverError(`fetch failed: ${describe(error)}`, { cause: error });
    }
    return { outOfRange };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
