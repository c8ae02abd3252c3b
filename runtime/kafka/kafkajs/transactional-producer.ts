/**
 * The transactional producer over kafkajs 2.2.4 (`producer.transaction()`).
 *
 * No KIP-447: kafkajs' `Transaction.sendOffsets` sends TxnOffsetCommit without the group generation and
 * member id (protocol v0..v2 fields only), so the `metadata` argument of `sendOffsets` is IGNORED here and
 * a member whose generation is stale is NOT fenced by the broker. Exactly-once on this driver therefore
 * needs one transactional producer per input partition (transactionalId `<applicationId>-<subtopology>-
 * <partition>`, Kafka Streams before KIP-447): the new owner of a partition fences the old one through
 * InitProducerId. That is a runtime change (issue 16), not a driver one.
 */
import type { Kafka, Producer as KjsProducer, Transaction } from 'kafkajs';
import type { GroupConsumer, GroupMetadata, ProduceResult, ProducerRecord, TopicPartitionOffset, TransactionalProducer, TransactionalProducerOptions } from '../driver.js';
import { FencedError, KafkaDriverError, TransactionError } from '../errors.js';
import { SerialQueue, groupByTopic } from '../platformatic/helpers.js';
import { describeKafkajs, mapKafkajsTransactionError } from './error-mapping.js';
import { KafkajsGroupConsumer } from './group-consumer.js';
import { fromRecordMetadata, toKafkajsMessages, votestreamPartitioner } from './produce.js';
import { METADATA_MAX_AGE_MS } from './producer.js';

export class KafkajsTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string;
  readonly #client: KjsProducer;
  readonly #queue = new SerialQueue();
  #txn: Transaction | null = null;
  #fenced: FencedError | null = null;
  #closed = false;

  constructor(kafka: Kafka, options: TransactionalProducerOptions) {
    this.transactionalId = options.transactionalId;
    this.#client = kafka.producer({
      createPartitioner: votestreamPartitioner,
      transactionalId: options.transactionalId,
      transactionTimeout: options.transactionTimeoutMs ?? 10_000,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      metadataMaxAge: METADATA_MAX_AGE_MS,
    });
  }

  get inTransaction(): boolean {
    return this.#txn !== null;
  }

  /**
   * InitProducerId now (Java's initTransactions): bumps the epoch, fencing and aborting older producers.
   * kafkajs 2.2.4 does NOT do that in connect(): connect() initialises a separate, non-transactional
   * idempotent producer id, and the transactional InitProducerId runs only at the first `transaction()`.
   * Until then an older producer with the same transactionalId is not fenced: against Kafka 4.1 it went
   * on committing transactions after the new one had connected (reproduced). So a first, empty
   * transaction is begun and ended here; ending one with no partitions sends nothing.
   */
  async init(): Promise<void> {
    await this.#queue.run(async () => {
      try {
        await this.#client.connect();
        const first = await this.#client.transaction();
        await first.abort();
      } catch (error) {
        throw this.#map(error, 'initialising');
      }
    });
  }

  #map(error: unknown, what: string, groupFencing = false): Error {
    const mapped = mapKafkajsTransactionError(error, this.transactionalId, what, groupFencing);
    if (mapped instanceof FencedError && mapped.kind === 'producer') this.#fenced = mapped;
    return mapped;
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
        this.#txn = await this.#client.transaction();
      } catch (error) {
        throw this.#map(error, 'beginning');
      }
    });
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      const txn = this.#open('send');
      if (records.length === 0) return { offsets: [] };
      try {
        return fromRecordMetadata(await txn.sendBatch({ topicMessages: toKafkajsMessages(records), acks: -1 }));
      } catch (error) {
        throw this.#map(error, 'sending');
      }
    });
  }

  /** `metadata` is ignored: see the header of this file (no KIP-447 in kafkajs 2.2.4). */
  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[], _metadata?: GroupMetadata): Promise<void> {
    return this.#queue.run(async () => {
      const txn = this.#open('sendOffsets');
      if (!(consumer instanceof KafkajsGroupConsumer)) throw new TransactionError('sendOffsets needs a consumer created by the same driver');
      if (offsets.length === 0) return;
      const topics = [...groupByTopic(offsets)].map(([topic]) => ({
        topic,
        partitions: offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: o.offset.toString() })),
      }));
      try {
        await txn.sendOffsets({ consumerGroupId: consumer.groupId, topics });
      } catch (error) {
        throw this.#map(error, 'sending offsets', true);
      }
    });
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
      await this.#client.disconnect();
    } catch (error) {
      throw new KafkaDriverError(`closing producer ${this.transactionalId} failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }
}
