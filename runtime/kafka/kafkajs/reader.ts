/**
 * A group-less reader of fixed partitions over kafkajs 2.2.4. kafkajs has no assign mode: every consumer
 * is a group member. This one joins a group of its own (a fresh id, never committed to, so the broker
 * forgets it once the reader leaves), is therefore assigned every partition of its topics, pauses the
 * ones it was not asked for, and positions the others itself (batch-pump.ts).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type ConsumerGroupJoinEvent } from 'kafkajs';
import type { ConsumedRecord, IsolationLevel, PollOptions, ReadToEndResult, Reader, ReaderOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { sortTps, tpKey } from '../platformatic/helpers.js';
import { BatchPump } from './batch-pump.js';
import { describeKafkajs } from './error-mapping.js';
import type { KafkajsClientConfig } from './group-consumer.js';
import { OffsetLister } from './offsets.js';
import { readToEnd } from '../read-to-end.js';

const HEARTBEAT_INTERVAL_MS = 1_000;

export class KafkajsReader implements Reader {
  readonly #consumer: Consumer;
  readonly #pump: BatchPump;
  readonly #offsets: OffsetLister;
  readonly #partitions: TopicPartition[];
  readonly #wanted: Set<string>;
  readonly #isolation: IsolationLevel;
  /** Start positions, resolved before joining and applied at every join. */
  readonly #starts = new Map<string, bigint>();
  #asyncError: unknown = null;

  constructor(config: KafkajsClientConfig, options: ReaderOptions) {
    this.#isolation = options.isolation ?? 'read_committed';
    this.#partitions = sortTps(options.partitions.map(({ topic, partition }) => ({ topic, partition })));
    this.#wanted = new Set(this.#partitions.map(tpKey));
    const kafka = new Kafka({ clientId: config.clientId, brokers: config.brokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    this.#consumer = kafka.consumer({
      groupId: `${config.clientId}-reader-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      readUncommitted: this.#isolation === 'read_uncommitted',
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    this.#offsets = new OffsetLister(kafka);
    this.#pump = new BatchPump({ consumer: this.#consumer, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => this.#onJoin(event));
    this.#consumer.on(this.#consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        this.#asyncError ??= event.payload.error;
        this.#pump.wakeUp();
      }
    });
  }

  /** The group is this reader alone; a (re)join hands it every partition again. */
  #onJoin(event: ConsumerGroupJoinEvent): void {
    const others: Array<{ topic: string; partitions: number[] }> = [];
    for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
      const unwanted = partitions.filter((partition) => !this.#wanted.has(tpKey({ topic, partition })));
      if (unwanted.length > 0) others.push({ topic, partitions: unwanted });
    }
    if (others.length > 0) this.#consumer.pause(others);
    this.#pump.realign([]);
    for (const tp of this.#partitions) this.#pump.seek(tp, this.#pump.position(tp) ?? (this.#starts.get(tpKey(tp)) as bigint));
  }

  async init(options: ReaderOptions): Promise<void> {
    const earliest = await this.#offsets.list(options.partitions.filter((p) => p.from === 'earliest'), 'earliest', this.#isolation);
    const latest = await this.#offsets.list(options.partitions.filter((p) => p.from === 'latest'), 'latest', this.#isolation);
    for (const p of options.partitions) {
      const key = tpKey(p);
      this.#starts.set(key, typeof p.from === 'bigint' ? p.from : ((p.from === 'earliest' ? earliest : latest).get(key) as bigint));
    }
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [...new Set(this.#partitions.map((tp) => tp.topic))], fromBeginning: true });
      await this.#consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 64, eachBatch: this.#pump.eachBatch });
    } catch (error) {
      throw new KafkaDriverError(`starting reader failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  #check(): void {
    if (this.#asyncError !== null) throw new KafkaDriverError(`reader failed: ${describeKafkajs(this.#asyncError)}`, { cause: this.#asyncError });
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#pump.position(tp);
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#wanted.has(tpKey(tp))) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this reader`);
    this.#pump.seek(tp, tp.offset);
  }

  async endOffsets(): Promise<TopicPartitionOffset[]> {
    const ends = await this.#offsets.list(this.#partitions, 'latest', this.#isolation);
    return this.#partitions.map((tp) => ({ ...tp, offset: ends.get(tpKey(tp)) as bigint }));
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    return this.#pollWithin(this.#partitions, options.maxWaitMs ?? 500, options.maxRecords ?? Number.POSITIVE_INFINITY);
  }

  async #pollWithin(partitions: readonly TopicPartition[], maxWaitMs: number, maxRecords: number, limits?: ReadonlyMap<string, bigint>): Promise<ConsumedRecord[]> {
    this.#check();
    await this.#pump.waitForData(partitions, maxWaitMs);
    this.#check();
    return this.#pump.take(partitions, maxRecords, limits);
  }

  readToEnd(onBatch: (records: ConsumedRecord[]) => Promise<void> | void, options: { readonly timeoutMs?: number } = {}): Promise<ReadToEndResult> {
    return readToEnd(
      {
        partitions: this.#partitions,
        position: (tp) => this.#pump.position(tp),
        endOffsets: () => this.endOffsets(),
        pollWithin: (partitions, maxWaitMs, limits) => this.#pollWithin(partitions, maxWaitMs, Number.POSITIVE_INFINITY, limits),
      },
      onBatch,
      options,
    );
  }

  async close(): Promise<void> {
    this.#pump.close();
    await Promise.allSettled([this.#consumer.disconnect(), this.#offsets.close()]);
  }
}
