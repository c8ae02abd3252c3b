/**
 * The small Kafka driver the streams runtime talks to (issue 4). Interfaces only. Errors: `FencedError`, `TransactionError`, `KafkaDriverError`, `NoOffsetError` in
 * `./errors.js`.
 *
 * Two implementations: `platformatic-driver.ts` (@platformatic/kafka, KIP-447 fencing) and
 * `kafkajs-driver.ts` (kafkajs 2.2.4, none); `create-driver.ts` picks one by name.
 *
 * Record representation (one, everywhere):
 * - `offset` is a bigint (Kafka int64); offsets given to `seek`, `sendOffsets` and returned by
 *   `committed`/`endOffsets` are always "the next offset to read".
 * - `timestamp` is a number: milliseconds since the epoch (int64 on the wire, always a safe integer in
 *   practice).
 * - `key` / `value` are `Buffer | null` (null = absent; a null value is a tombstone).
 * - `headers` is an ordered array of `[name, value]` pairs, names as UTF-8 strings, values as Buffers;
 *   duplicates allowed, as in Kafka.
 */

import type { EnsureTopicsResult, TopicRequirement } from './topic-admin.js';

export type { EnsureTopicsResult, TopicRequirement };

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read (a committed offset, an end offset, a position). */
  readonly offset: bigint;
}

export type RecordHeaders = ReadonlyArray<readonly [string, Buffer]>;

/** The headers of a record without any: one shared, frozen list (records are never written to). */
export const NO_HEADERS: RecordHeaders = Object.freeze([]);

export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
}

export interface ProducerRecord {
  readonly topic: string;
  /**
   * Honoured exactly (validated against the topic's partition count). When absent, a record with a key
   * goes to the Java-compatible partition `toPositive(murmur2(key)) % numPartitions`; a record with a
   * null key goes to `sourcePartition` when given, else round-robin.
   */
  readonly partition?: number;
  /**
   * For a record with a null key and no `partition`: the partition of the input record it was made
   * from. It goes to that partition modulo the topic's partition count, so where it lands depends on
   * the input alone (a replay puts it in the same place; with co-partitioned topics, partition p of
   * one is partition p of the other) instead of on the client's round-robin.
   */
  readonly sourcePartition?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: RecordHeaders;
  /** Milliseconds since the epoch; defaults to now. */
  readonly timestamp?: number;
}

/** Where a send landed: the base offset of the batch written to each partition (transactional sends: not yet visible). */
export interface ProduceResult {
  readonly offsets: readonly TopicPartitionOffset[];
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

/**
 * The group's generation as the application last saw it (the snapshot taken when `poll()` delivered the
 * current assignment). KIP-447: transactional offset commits carry it, so that a member whose generation
 * is stale cannot commit offsets for partitions that were moved to another member.
 */
export interface GroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export type RebalanceCallback = (partitions: readonly TopicPartition[], group: GroupMetadata) => Promise<void> | void;

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly clientId?: string;
  /** Default 10 000 (the broker accepts 6 000..300 000 by default). */
  readonly sessionTimeoutMs?: number;
  /** Default sessionTimeoutMs / 3, at most 3 000. Existing members learn about a rebalance at their next heartbeat. */
  readonly heartbeatIntervalMs?: number;
  /** How long the coordinator waits for members to rejoin. Default 30 000. */
  readonly rebalanceTimeoutMs?: number;
  /** Static membership (KIP-345). Default none. */
  readonly groupInstanceId?: string;
  /** Default 'read_committed'. */
  readonly isolation?: IsolationLevel;
  /** Where to start a partition without a committed offset. Default 'earliest'; 'none' makes poll() throw NoOffsetError. */
  readonly autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** Upper bound of one fetch response, default 8 MiB; per partition default 1 MiB. */
  readonly maxBytes?: number;
  readonly maxBytesPerPartition?: number;
  /**
   * Called from within `poll()` and awaited before it fetches anything. The generation passed is the NEW
   * one: the group has already moved on (the client rejoins in the background), so work of the revoked
   * partitions can no longer be committed; the runtime aborts the open transaction, drops the buffers,
   * closes those tasks and rewinds the kept ones (`seekToCommitted`). Revoked partitions are only those
   * leaving this member; a rebalance that keeps a partition here does not revoke it. Another member may
   * already own a revoked partition when this runs; KIP-447 fencing plus require_stable offset fetches
   * make that safe.
   */
  readonly onRevoked?: RebalanceCallback;
  /** Called from within `poll()`, awaited, after positions were set from the committed offsets. */
  readonly onAssigned?: RebalanceCallback;
}

export interface PollOptions {
  /** How long the fetch may wait on the broker when nothing is available. Default 500. */
  readonly maxWaitMs?: number;
  /** At most this many records; the rest stay buffered for the next poll. Default unlimited. */
  readonly maxRecords?: number;
}

/**
 * A member of a consumer group, subscribe mode, auto-commit OFF (offsets are committed only through a
 * transaction with `TransactionalProducer.sendOffsets`, or `commitSync` for non-transactional uses).
 * Not safe for concurrent calls: one poll at a time.
 */
export interface GroupConsumer {
  readonly groupId: string;
  /**
   * Delivers any pending rebalance through onRevoked/onAssigned (awaited), then returns the next records
   * of the assigned, unpaused partitions, each partition in offset order, and advances the positions.
   */
  poll(options?: PollOptions): Promise<ConsumedRecord[]>;
  /** The generation the current assignment belongs to (see GroupMetadata). Throws before the first assignment. */
  groupMetadata(): GroupMetadata;
  /** The partitions delivered to the application by the last onAssigned/onRevoked. */
  assignment(): readonly TopicPartition[];
  /** Next offset poll() will return for an assigned partition. */
  position(tp: TopicPartition): bigint | undefined;
  /** Moves an assigned partition's position (drops records buffered for it). */
  seek(tp: TopicPartitionOffset): void;
  /** Re-reads committed offsets (require_stable) and seeks the given (default all assigned) partitions to them. */
  seekToCommitted(partitions?: readonly TopicPartition[]): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  paused(): readonly TopicPartition[];
  /**
   * The group's committed offsets for the given (default assigned) partitions, waiting for pending
   * transactional offset commits (require_stable). `null` = nothing committed.
   */
  committed(partitions?: readonly TopicPartition[]): Promise<Array<TopicPartition & { readonly offset: bigint | null }>>;
  /** Plain (non-transactional) OffsetCommit with the current generation; not for exactly-once paths. */
  commitSync(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Leaves the group (the other members rebalance at once) and closes the client. Does not call onRevoked. */
  close(): Promise<void>;
}

export interface TransactionalProducerOptions {
  /** One per worker process and stable across restarts of that process, so that a restart fences its zombie. */
  readonly transactionalId: string;
  readonly clientId?: string;
  /**
   * The broker aborts a transaction open for longer than this. Default 10 000 (as Kafka Streams under
   * exactly-once). With this client it is also the request timeout.
   */
  readonly transactionTimeoutMs?: number;
}

/**
 * One transaction at a time: begin, send*, sendOffsets?, commit | abort. Calls are serialised internally;
 * do not interleave transactions. After a FencedError of kind 'producer', only close() is allowed.
 * Initialisation (InitProducerId: fences older producers with the same id and aborts their open
 * transaction) happens in `createTransactionalProducer`.
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  readonly inTransaction: boolean;
  begin(): Promise<void>;
  send(records: readonly ProducerRecord[]): Promise<ProduceResult>;
  /**
   * Adds the group's offsets to the open transaction (AddOffsetsToTxn + TxnOffsetCommit), stamped with
   * `metadata`, by default `consumer.groupMetadata()` now. `offsets` are the next offsets to consume.
   * A stale generation raises FencedError('group'). A commit that runs while the consumer polls on
   * passes the metadata of the generation its records were processed in: a rebalance delivered in
   * between must fence it, not lend it the new generation.
   */
  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[], metadata?: GroupMetadata): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  readonly clientId?: string;
}

/** Idempotent, acks=all, non-transactional (the gateway's producer). Sends are serialised internally. */
export interface Producer {
  send(records: readonly ProducerRecord[]): Promise<ProduceResult>;
  close(): Promise<void>;
}

export type StartOffset = bigint | 'earliest' | 'latest';

export interface ReaderOptions {
  readonly partitions: ReadonlyArray<TopicPartition & { readonly from: StartOffset }>;
  readonly clientId?: string;
  /** Default 'read_committed'. */
  readonly isolation?: IsolationLevel;
  readonly maxBytes?: number;
  readonly maxBytesPerPartition?: number;
}

export interface ReadToEndResult {
  readonly records: number;
  /** The end offsets that were reached (taken when readToEnd started). */
  readonly end: readonly TopicPartitionOffset[];
}

/**
 * Assign mode, no group, never commits: restoration from a changelog, global tables, tests.
 * Not safe for concurrent calls.
 */
export interface Reader {
  poll(options?: PollOptions): Promise<ConsumedRecord[]>;
  /**
   * Reads every assigned partition up to the end offsets current when called (the last stable offset
   * under read_committed, the high watermark otherwise), handing over batches in order. Resolves when
   * every position has reached its end.
   */
  readToEnd(onBatch: (records: ConsumedRecord[]) => Promise<void> | void, options?: { readonly timeoutMs?: number }): Promise<ReadToEndResult>;
  /** End offsets of the assigned partitions for the reader's isolation level. */
  endOffsets(): Promise<TopicPartitionOffset[]>;
  position(tp: TopicPartition): bigint | undefined;
  seek(tp: TopicPartitionOffset): void;
  close(): Promise<void>;
}

export interface KafkaAdmin {
  /** Creates the missing topics, checks the partition counts of existing ones (topic-admin.ts). */
  ensureTopics(topics: readonly TopicRequirement[]): Promise<EnsureTopicsResult>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Fresh metadata; throws KafkaDriverError for a topic that does not exist. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Per partition, sorted: 'read_committed' gives the last stable offset, 'read_uncommitted' the high watermark. */
  endOffsets(topics: readonly string[], isolation?: IsolationLevel): Promise<TopicPartitionOffset[]>;
  /** Log start offsets per partition, sorted. */
  beginningOffsets(topics: readonly string[]): Promise<TopicPartitionOffset[]>;
  /** The group's committed offsets (require_stable), only partitions that have one, sorted. */
  committedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicPartitionOffset[]>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaDriver {
  /**
   * Whether `TransactionalProducer.sendOffsets` carries the group generation (KIP-447), so that the
   * broker refuses the offsets of a member whose partitions moved on. Without it, exactly-once
   * needs one transactional producer per input partition, whose InitProducerId fences the
   * partition's previous owner (runtime/commit-strategy.ts).
   */
  readonly fencesOffsetsByGeneration: boolean;
  createAdmin(options?: { readonly clientId?: string }): KafkaAdmin;
  /** Joins the group before resolving; the first assignment is delivered by the first poll(). */
  createGroupConsumer(options: GroupConsumerOptions): Promise<GroupConsumer>;
  /** Resolves after InitProducerId (which fences older producers with the same transactionalId). */
  createTransactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer>;
  createProducer(options?: ProducerOptions): Promise<Producer>;
  /** Resolves the start offsets ('earliest'/'latest') before returning. */
  createReader(options: ReaderOptions): Promise<Reader>;
}
