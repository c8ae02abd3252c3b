/**
 * KafkaDriver over @platformatic/kafka 1.35 (see driver.ts for the contract).
 *
 * What is used from the library and what is done here, and why:
 * - Group membership (JoinGroup/SyncGroup/Heartbeat, classic protocol, eager, the library's round-robin
 *   assignor) is the library's `Consumer`. It rejoins by itself, in the background, as soon as a
 *   heartbeat reports a rebalance; we listen to its 'consumer:group:join' event and deliver the change
 *   from the next poll(). So onRevoked runs AFTER the group has moved on: offsets of the old generation
 *   can no longer be committed (KIP-447 fencing makes that safe, see GroupMetadata).
 * - Fetching is done here with the Fetch API (not MessagesStream): a pull API whose rebalance callbacks
 *   are awaited before anything is fetched, no prefetching, no auto-commit, and a read_committed filter
 *   that follows the Java consumer. The library's own filter keeps only the LAST aborted transaction per
 *   producer of a fetch response, so earlier aborted transactions of that producer leak through its
 *   MessagesStream (reproduced against Kafka 4.1).
 * - TxnOffsetCommit is sent here, one request for all partitions, stamped with the generation snapshot
 *   the application saw. The library's `Transaction.addOffset` takes one consumed message at a time and
 *   stamps it with the consumer's live generation, which after a background rejoin would let a member
 *   commit offsets of a partition it no longer owns.
 * - InitProducerId is asked with producerId/epoch -1 (the library sends 0/0, which the broker reads as a
 *   KIP-360 epoch bump of producer 0: PRODUCER_FENCED whenever the transactionalId already exists).
 * - Sends are serialised: the library reads idempotent sequence numbers when a request is built and
 *   increments them on the response, and deduplicates concurrent AddPartitionsToTxn calls, so
 *   concurrent sends would duplicate sequences or skip partition registration.
 * - Keyed records without an explicit partition get `partitionForKey` from runtime/partitioner.ts
 *   (Java-compatible murmur2); the library's default partitioner is not Java-compatible (`>>> 0`).
 */
import { randomUUID } from 'node:crypto';
import {
  Admin,
  ConnectionPool,
  Consumer,
  IS_CONTROL,
  IS_TRANSACTIONAL,
  Producer as PltProducer,
  kGetApi,
  type API,
  type ClusterMetadata,
  type ConsumerGroupJoinPayload,
  type fetchV17,
  type txnOffsetCommitV4,
} from '@platformatic/kafka';
import type {
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  GroupMetadata,
  IsolationLevel,
  KafkaAdmin,
  KafkaDriver,
  PollOptions,
  ProduceResult,
  Producer,
  ProducerOptions,
  ProducerRecord,
  ReadToEndResult,
  Reader,
  ReaderOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
  TransactionalProducerOptions,
} from './driver.js';
import { partitionForKey } from '../partitioner.js';
import { FencedError, KafkaDriverError, NoOffsetError, TransactionError } from './errors.js';
import { ensureTopics, type EnsureTopicsResult, type TopicRequirement } from './topic-admin.js';

export interface PlatformaticDriverOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** Prefix of the client ids of the clients this driver creates. Default 'votestream'. */
  readonly clientId?: string;
}

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
const LATEST = -1n;
const EARLIEST = -2n;
const TIMESTAMP_LOG_APPEND_TIME = 0x08;

type Transaction = NonNullable<PltProducer['transaction']>;
const FRESH_PRODUCER = { producerId: -1n, producerEpoch: -1 } as const;
type FetchArgs = Parameters<typeof fetchV17.createRequest>;
type TxnOffsetCommitArgs = Parameters<typeof txnOffsetCommitV4.createRequest>;

// ---------------------------------------------------------------------------------------------------
// small helpers

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`;
}

function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

function sortTps<T extends TopicPartition>(tps: T[]): T[] {
  return tps.sort(compareTp);
}

function groupByTopic(tps: readonly TopicPartition[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    let list = out.get(topic);
    if (!list) out.set(topic, (list = []));
    list.push(partition);
  }
  return out;
}

function isolationCode(isolation: IsolationLevel | undefined): number {
  return (isolation ?? 'read_committed') === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface ErrorWithTree {
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
  response?: unknown;
}

/** Every Kafka protocol error id (e.g. 'PRODUCER_FENCED') found in an error tree of the library. */
export function kafkaErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const t = e as ErrorWithTree;
    if (typeof t.apiId === 'string') ids.add(t.apiId);
    if (Array.isArray(t.errors)) for (const inner of t.errors) visit(inner);
    visit(t.cause);
  };
  visit(error);
  return ids;
}

function hasAny(ids: Set<string>, wanted: readonly string[]): string | undefined {
  return wanted.find((w) => ids.has(w));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const ids = [...kafkaErrorIds(error)];
    return ids.length > 0 ? `${error.message} [${ids.join(', ')}]` : error.message;
  }
  return String(error);
}

/** The first `response` object with per-partition data carried by a (wrapped) ResponseError. */
function findResponse<T>(error: unknown, has: (r: object) => boolean): T | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): T | undefined => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const t = e as ErrorWithTree;
    if (t.response !== null && typeof t.response === 'object' && has(t.response)) return t.response as T;
    if (Array.isArray(t.errors)) {
      for (const inner of t.errors) {
        const found = visit(inner);
        if (found) return found;
      }
    }
    return visit(t.cause);
  };
  return visit(error);
}

const PRODUCER_FENCED_IDS = ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTION_COORDINATOR_FENCED'] as const;
const GROUP_FENCED_IDS = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS'] as const;
const RETRIABLE_COORDINATOR_IDS = [
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'REQUEST_TIMED_OUT',
  'UNKNOWN_TOPIC_OR_PARTITION',
] as const;
const STALE_METADATA_IDS = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_OR_PARTITION', 'KAFKA_STORAGE_ERROR', 'NOT_LEADER_FOR_PARTITION'] as const;

/** Serialises async operations (the library is not safe for concurrent sends / transactional calls). */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Resolves every record's partition: an explicit one is checked against the topic's partition count, a
 * keyed record gets the Java-compatible `partitionForKey` (runtime/partitioner.ts), a record without key
 * and partition is left to the library's round-robin.
 */
async function toProduceMessages(client: PltProducer, records: readonly ProducerRecord[]) {
  const topics = [...new Set(records.filter((r) => r.partition !== undefined || r.key !== null).map((r) => r.topic))];
  const md = topics.length > 0 ? await client.metadata({ topics }) : null;
  return records.map((r) => {
    let partition = r.partition;
    const count = md?.topics.get(r.topic)?.partitionsCount;
    if (partition !== undefined) {
      if (!Number.isInteger(partition) || partition < 0 || count === undefined || partition >= count) {
        throw new KafkaDriverError(`partition ${partition} does not exist in topic ${r.topic} (${count ?? 0} partitions)`);
      }
    } else if (r.key !== null) {
      if (count === undefined) throw new KafkaDriverError(`no metadata for topic ${r.topic}`);
      partition = partitionForKey(r.key, count);
    }
    const headers = new Map<Buffer, Buffer>();
    // Distinct Buffer instances as keys: duplicate header names survive the Map.
    for (const [name, value] of r.headers ?? []) headers.set(Buffer.from(name, 'utf8'), value);
    return {
      topic: r.topic,
      ...(partition === undefined ? {} : { partition }),
      key: r.key ?? undefined,
      value: r.value ?? undefined,
      headers,
      ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
    };
  });
}

function toProduceResult(result: { offsets?: { topic: string; partition: number; offset: bigint }[] }): ProduceResult {
  return { offsets: sortTps((result.offsets ?? []).map(({ topic, partition, offset }) => ({ topic, partition, offset }))) };
}

// ---------------------------------------------------------------------------------------------------
// fetching (shared by the group consumer and the reader)

interface DecodedPartition {
  readonly records: ConsumedRecord[];
  /** Offset after the last batch seen (data, aborted or control), or null when the response had none past `from`. */
  readonly next: bigint | null;
}

/**
 * Decodes one partition of a fetch response from offset `from` on. Under read_committed it drops the
 * batches of aborted transactions as the Java consumer does: aborted transactions (sorted by first
 * offset) become active when a batch reaches their first offset, and stop at that producer's abort marker.
 */
export function decodePartition(topic: string, partition: number, data: fetchV17.FetchResponsePartition, from: bigint, readCommitted: boolean): DecodedPartition {
  const records: ConsumedRecord[] = [];
  let next: bigint | null = null;
  const aborted = readCommitted ? [...data.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0)) : [];
  const abortedProducers = new Set<bigint>();
  let nextAborted = 0;
  for (const batch of data.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    const isControl = (batch.attributes & IS_CONTROL) !== 0;
    const isTransactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
    if (readCommitted && batch.producerId >= 0n) {
      while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= last) {
        abortedProducers.add(aborted[nextAborted].producerId);
        nextAborted++;
      }
    }
    if (last < from) continue;
    next = last + 1n;
    if (isControl) {
      // Control record key: version int16, type int16 (0 = ABORT, 1 = COMMIT).
      const key = batch.records[0]?.key;
      if (readCommitted && key && key.length >= 4 && key.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (readCommitted && isTransactional && abortedProducers.has(batch.producerId)) continue;
    const logAppendTime = (batch.attributes & TIMESTAMP_LOG_APPEND_TIME) !== 0;
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      if (offset < from) continue;
      records.push({
        topic,
        partition,
        offset,
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta),
        key: r.key,
        value: r.value,
        headers: r.headers.map(([k, v]) => [k ? k.toString('utf8') : '', v ?? Buffer.alloc(0)] as const),
      });
    }
  }
  return { records, next };
}

interface FetcherOptions {
  readonly client: Consumer;
  readonly clientId: string;
  readonly isolation: IsolationLevel;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

interface FetchOutcome {
  /** Partitions whose position is outside the log (OFFSET_OUT_OF_RANGE): the owner must reset them. */
  readonly outOfRange: TopicPartition[];
}

/** Positions, buffered records and the Fetch requests for a set of partitions. */
class Fetcher {
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
      client[kGetApi]<FetchArgs, fetchV17.FetchResponse>('Fetch', (error, found) => (error || !found ? reject(error ?? new Error('no Fetch API')) : resolve(found)));
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
    const ids = kafkaErrorIds(error);
    if (this.#consecutiveFailures > 20 || (ids.size > 0 && !hasAny(ids, STALE_METADATA_IDS))) {
      throw new KafkaDriverError(`fetch failed: ${describe(error)}`, { cause: error });
    }
    return { outOfRange };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/** ListOffsets for the given partitions at a special timestamp (-1 latest, -2 earliest). */
async function listOffsetsFor(client: Consumer, partitions: readonly TopicPartition[], timestamp: bigint, isolation: IsolationLevel): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (partitions.length === 0) return out;
  const byTopic = groupByTopic(partitions);
  const offsets = await client.listOffsets({
    topics: [...byTopic.keys()],
    partitions: Object.fromEntries(byTopic),
    timestamp,
    isolationLevel: isolationCode(isolation),
  });
  for (const tp of partitions) {
    const offset = offsets.get(tp.topic)?.[tp.partition];
    if (offset === undefined) throw new KafkaDriverError(`no offset listed for ${tpKey(tp)}`);
    out.set(tpKey(tp), offset);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// group consumer

class PlatformaticGroupConsumer implements GroupConsumer {
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
      const ids = kafkaErrorIds(error);
      if (hasAny(ids, GROUP_FENCED_IDS)) throw new FencedError('group', `offset commit of group ${this.groupId} rejected: ${describe(error)}`, { cause: error });
      throw new KafkaDriverError(`offset commit of group ${this.groupId} failed: ${describe(error)}`, { cause: error });
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

/** Committed offsets of a group with require_stable (waits while a transaction holding offsets is open). */
async function committedOffsets(admin: Admin, groupId: string, partitions?: readonly TopicPartition[], timeoutMs = 60_000): Promise<Map<string, bigint>> {
  const deadline = Date.now() + timeoutMs;
  const topics = partitions ? [...groupByTopic(partitions)].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) : null;
  if (topics && topics.length === 0) return new Map();
  for (;;) {
    try {
      const groups = await admin.listConsumerGroupOffsets({ groups: [topics ? { groupId, topics } : groupId], requireStable: true });
      const out = new Map<string, bigint>();
      for (const g of groups) {
        for (const t of g.topics) {
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n) out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.committedOffset);
          }
        }
      }
      return out;
    } catch (error) {
      const ids = kafkaErrorIds(error);
      if (hasAny(ids, ['UNSTABLE_OFFSET_COMMIT', ...RETRIABLE_COORDINATOR_IDS]) && Date.now() < deadline) {
        await sleep(100);
        continue;
      }
      throw new KafkaDriverError(`listing committed offsets of group ${groupId} failed: ${describe(error)}`, { cause: error });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// transactional producer

class PlatformaticTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string;
  readonly #client: PltProducer;
  readonly #queue = new SerialQueue();
  #txn: Transaction | null = null;
  #fenced: FencedError | null = null;
  #closed = false;

  constructor(brokers: string[], clientId: string, options: TransactionalProducerOptions) {
    this.transactionalId = options.transactionalId;
    this.#client = new PltProducer({
      clientId,
      bootstrapBrokers: brokers,
      transactionalId: options.transactionalId,
      idempotent: true,
      acks: -1,
      // InitProducerId sends this as transaction.timeout.ms; it is the request timeout as well.
      timeout: options.transactionTimeoutMs ?? 10_000,
      retries: 5,
      retryDelay: 250,
    });
  }

  get inTransaction(): boolean {
    return this.#txn !== null;
  }

  /** InitProducerId now (Java's initTransactions): bumps the epoch, fencing and aborting older producers. */
  async init(): Promise<void> {
    await this.#queue.run(async () => {
      try {
        // producerId/epoch -1 = a fresh InitProducerId, as Java's initTransactions. The library defaults
        // to 0/0, which KIP-360 brokers read as "bump the epoch of producer 0": PRODUCER_FENCED as soon
        // as the transactionalId already has a producer id, i.e. on every restart.
        const txn = await this.#client.beginTransaction(FRESH_PRODUCER);
        await txn.cancel();
      } catch (error) {
        throw this.#map(error, 'initialising');
      }
    });
  }

  #map(error: unknown, what: string, groupFencing = false): Error {
    if (error instanceof FencedError || error instanceof TransactionError || error instanceof KafkaDriverError) return error;
    const ids = kafkaErrorIds(error);
    const producerFence = hasAny(ids, PRODUCER_FENCED_IDS);
    if (producerFence) {
      this.#fenced = new FencedError('producer', `producer ${this.transactionalId} was fenced (${producerFence}) while ${what}`, { cause: error });
      return this.#fenced;
    }
    const groupFence = groupFencing ? hasAny(ids, GROUP_FENCED_IDS) : undefined;
    if (groupFence) return new FencedError('group', `offsets of ${this.transactionalId} rejected (${groupFence}): the group generation is stale`, { cause: error });
    return new TransactionError(`transaction of ${this.transactionalId} failed while ${what}: ${describe(error)}`, { cause: error });
  }

  #ready(): void {
    if (this.#closed) throw new TransactionError(`producer ${this.transactionalId} is closed`, { abortable: false });
    if (this.#fenced) throw this.#fenced;
  }

  #open(what: string): Transaction {
    this.#ready();
    if (!this.#txn) throw new TransactionError(`no open transaction for ${what}`);
    return this.#txn;
  }

  begin(): Promise<void> {
    return this.#queue.run(async () => {
      this.#ready();
      if (this.#txn) throw new TransactionError(`a transaction of ${this.transactionalId} is already open`);
      try {
        this.#txn = await this.#client.beginTransaction(FRESH_PRODUCER);
      } catch (error) {
        throw this.#map(error, 'beginning');
      }
    });
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      const txn = this.#open('send');
      if (records.length === 0) return { offsets: [] };
      const messages = await toProduceMessages(this.#client, records);
      try {
        return toProduceResult(await txn.send({ messages }));
      } catch (error) {
        throw this.#map(error, 'sending');
      }
    });
  }

  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    return this.#queue.run(async () => {
      const txn = this.#open('sendOffsets');
      if (!(consumer instanceof PlatformaticGroupConsumer)) throw new TransactionError('sendOffsets needs a consumer created by the same driver');
      if (offsets.length === 0) return;
      const meta = consumer.groupMetadata();
      try {
        await txn.addConsumer(consumer.client);
        await this.#txnOffsetCommit(consumer.client, meta, offsets);
      } catch (error) {
        throw this.#map(error, 'sending offsets', true);
      }
    });
  }

  /** TxnOffsetCommit to the group coordinator, all partitions in one request, stamped with `meta`. */
  async #txnOffsetCommit(consumer: Consumer, meta: GroupMetadata, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const topics: txnOffsetCommitV4.TxnOffsetCommitRequestTopic[] = [...groupByTopic(offsets)].map(([name]) => ({
      name,
      partitions: offsets
        .filter((o) => o.topic === name)
        .map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null })),
    }));
    const producerId = this.#client.producerId;
    const producerEpoch = this.#client.producerEpoch;
    if (producerId === undefined || producerEpoch === undefined) throw new TransactionError('producer id not initialised');
    const api = await new Promise<API<TxnOffsetCommitArgs, txnOffsetCommitV4.TxnOffsetCommitResponse>>((resolve, reject) => {
      this.#client[kGetApi]<TxnOffsetCommitArgs, txnOffsetCommitV4.TxnOffsetCommitResponse>('TxnOffsetCommit', (error, found) =>
        error || !found ? reject(error ?? new Error('no TxnOffsetCommit API')) : resolve(found),
      );
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinatorId = await consumer.findGroupCoordinator();
        const metadata = await this.#client.metadata({ topics: [] });
        const broker = metadata.brokers.get(coordinatorId);
        if (!broker) throw new KafkaDriverError(`group coordinator ${coordinatorId} not in metadata`);
        const connection = await this.#client.connections.get(broker);
        await api.async(connection, this.transactionalId, meta.groupId, producerId, producerEpoch, meta.generationId, meta.memberId, meta.groupInstanceId, topics);
        return;
      } catch (error) {
        const ids = kafkaErrorIds(error);
        if (attempt < 10 && hasAny(ids, RETRIABLE_COORDINATOR_IDS) && !hasAny(ids, [...GROUP_FENCED_IDS, ...PRODUCER_FENCED_IDS])) {
          await sleep(100 * (attempt + 1));
          continue;
        }
        throw error;
      }
    }
  }

  commit(): Promise<void> {
    return this.#queue.run(async () => {
      const txn = this.#open('commit');
      try {
        await txn.commit();
        this.#txn = null;
      } catch (error) {
        throw this.#map(error, 'committing');
      }
    });
  }

  abort(): Promise<void> {
    return this.#queue.run(async () => {
      this.#ready();
      const txn = this.#txn;
      if (!txn) return;
      try {
        await txn.abort();
        this.#txn = null;
      } catch (error) {
        const mapped = this.#map(error, 'aborting');
        if (mapped instanceof TransactionError) throw new TransactionError(mapped.message, { cause: error, abortable: false });
        throw mapped;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.close(true);
    } catch (error) {
      throw new KafkaDriverError(`closing producer ${this.transactionalId} failed: ${describe(error)}`, { cause: error });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// idempotent producer

class PlatformaticProducer implements Producer {
  readonly #client: PltProducer;
  readonly #queue = new SerialQueue();

  constructor(brokers: string[], clientId: string) {
    this.#client = new PltProducer({
      clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: -1,
      timeout: 15_000,
      retryDelay: 250,
    });
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      if (records.length === 0) return { offsets: [] };
      const messages = await toProduceMessages(this.#client, records);
      try {
        return toProduceResult(await this.#client.send({ messages }));
      } catch (error) {
        throw new KafkaDriverError(`produce failed: ${describe(error)}`, { cause: error });
      }
    });
  }

  async close(): Promise<void> {
    await this.#client.close(true);
  }
}

// ---------------------------------------------------------------------------------------------------
// reader

class PlatformaticReader implements Reader {
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

// ---------------------------------------------------------------------------------------------------
// admin

class PlatformaticAdmin implements KafkaAdmin {
  readonly #brokers: string[];
  readonly #clientId: string;
  readonly #client: Admin;
  /** ListOffsets with an isolation level is a Consumer API in this library; a group-less consumer serves it. */
  #offsetsClient: Consumer | null = null;

  constructor(brokers: string[], clientId: string) {
    this.#brokers = brokers;
    this.#clientId = clientId;
    this.#client = new Admin({ clientId, bootstrapBrokers: brokers, timeout: 15_000, retries: 5, retryDelay: 250 });
  }

  ensureTopics(topics: readonly TopicRequirement[]): Promise<EnsureTopicsResult> {
    return ensureTopics(this.#brokers.join(','), topics, this.#clientId);
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      await this.#client.deleteTopics({ topics: [...topics] });
    } catch (error) {
      throw new KafkaDriverError(`deleting topics failed: ${describe(error)}`, { cause: error });
    }
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return;
    try {
      await this.#client.deleteGroups({ groups: [...groupIds] });
    } catch (error) {
      throw new KafkaDriverError(`deleting groups failed: ${describe(error)}`, { cause: error });
    }
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    let md: ClusterMetadata;
    try {
      md = await this.#client.metadata({ topics: [...topics], forceUpdate: true });
    } catch (error) {
      throw new KafkaDriverError(`metadata for ${topics.join(', ')} failed: ${describe(error)}`, { cause: error });
    }
    const out = new Map<string, number>();
    for (const t of topics) {
      const count = md.topics.get(t)?.partitionsCount;
      if (count === undefined) throw new KafkaDriverError(`topic ${t} does not exist`);
      out.set(t, count);
    }
    return out;
  }

  async #allPartitions(topics: readonly string[]): Promise<TopicPartition[]> {
    const counts = await this.partitionCounts(topics);
    const out: TopicPartition[] = [];
    for (const [topic, n] of counts) for (let partition = 0; partition < n; partition++) out.push({ topic, partition });
    return sortTps(out);
  }

  async #listOffsets(topics: readonly string[], timestamp: bigint, isolation: IsolationLevel): Promise<TopicPartitionOffset[]> {
    const partitions = await this.#allPartitions(topics);
    this.#offsetsClient ??= new Consumer({
      clientId: `${this.#clientId}-offsets`,
      bootstrapBrokers: this.#brokers,
      groupId: `${this.#clientId}-unused-${randomUUID()}`,
      autocommit: false,
      timeout: 15_000,
      retryDelay: 250,
    });
    try {
      const offsets = await listOffsetsFor(this.#offsetsClient, partitions, timestamp, isolation);
      return partitions.map((tp) => ({ ...tp, offset: offsets.get(tpKey(tp)) as bigint }));
    } catch (error) {
      if (error instanceof KafkaDriverError) throw error;
      throw new KafkaDriverError(`listing offsets failed: ${describe(error)}`, { cause: error });
    }
  }

  endOffsets(topics: readonly string[], isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    return this.#listOffsets(topics, LATEST, isolation);
  }

  beginningOffsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    return this.#listOffsets(topics, EARLIEST, 'read_uncommitted');
  }

  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicPartitionOffset[]> {
    const partitions = topics ? await this.#allPartitions(topics) : undefined;
    const found = await committedOffsets(this.#client, groupId, partitions);
    const out: TopicPartitionOffset[] = [];
    for (const [key, offset] of found) {
      const i = key.lastIndexOf(':');
      out.push({ topic: key.slice(0, i), partition: Number(key.slice(i + 1)), offset });
    }
    return sortTps(out);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#offsetsClient?.close()]);
    await this.#client.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// the driver

export class PlatformaticKafkaDriver implements KafkaDriver {
  readonly #brokers: string[];
  readonly #clientId: string;
  #seq = 0;

  constructor(options: PlatformaticDriverOptions) {
    this.#brokers = options.brokers
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
    if (this.#brokers.length === 0) throw new KafkaDriverError('no brokers given');
    this.#clientId = options.clientId ?? 'votestream';
  }

  #id(kind: string, given: string | undefined): string {
    return given ?? `${this.#clientId}-${kind}-${++this.#seq}`;
  }

  createAdmin(options: { readonly clientId?: string } = {}): KafkaAdmin {
    return new PlatformaticAdmin(this.#brokers, this.#id('admin', options.clientId));
  }

  async createGroupConsumer(options: GroupConsumerOptions): Promise<GroupConsumer> {
    const consumer = new PlatformaticGroupConsumer(this.#brokers, this.#id('consumer', options.clientId), options);
    try {
      await consumer.join();
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw error;
    }
    return consumer;
  }

  async createTransactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer> {
    const producer = new PlatformaticTransactionalProducer(this.#brokers, this.#id('txn', options.clientId), options);
    try {
      await producer.init();
    } catch (error) {
      await producer.close().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  async createProducer(options: ProducerOptions = {}): Promise<Producer> {
    return new PlatformaticProducer(this.#brokers, this.#id('producer', options.clientId));
  }

  async createReader(options: ReaderOptions): Promise<Reader> {
    const reader = new PlatformaticReader(this.#brokers, this.#id('reader', options.clientId), options);
    try {
      await reader.init(options);
    } catch (error) {
      await reader.close().catch(() => undefined);
      throw error instanceof KafkaDriverError ? error : new KafkaDriverError(`creating reader failed: ${describe(error)}`, { cause: error });
    }
    return reader;
  }
}
