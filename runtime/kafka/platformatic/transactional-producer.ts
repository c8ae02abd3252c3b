/**
 * The transactional producer over the library's `Producer` and `Transaction` (@platformatic/kafka
 * 1.35.0), with two of its steps done here; the defects are described where they are worked around.
 */
import { Consumer, Producer as PltProducer, kGetApi, type API, type txnOffsetCommitV4 } from '@platformatic/kafka';
import type { GroupConsumer, GroupMetadata, ProduceResult, ProducerRecord, TopicPartitionOffset, TransactionalProducer, TransactionalProducerOptions } from '../driver.js';
import { FencedError, KafkaDriverError, TransactionError } from '../errors.js';
import { describe, isRetriableCoordinatorError, mapTransactionError } from './error-mapping.js';
import { PlatformaticGroupConsumer } from './group-consumer.js';
import { SerialQueue, groupByTopic, sleep } from './helpers.js';
import { toProduceMessages, toProduceResult } from './produce.js';

type Transaction = NonNullable<PltProducer['transaction']>;
type TxnOffsetCommitArgs = Parameters<typeof txnOffsetCommitV4.createRequest>;

/**
 * InitProducerId as Java's initTransactions asks it. @platformatic/kafka 1.35.0 defaults to producer
 * id/epoch 0/0, which KIP-360 brokers read as "bump the epoch of producer 0": PRODUCER_FENCED as soon as
 * the transactionalId already has a producer id, i.e. on every restart.
 */
const FRESH_PRODUCER = { producerId: -1n, producerEpoch: -1 } as const;

export class PlatformaticTransactionalProducer implements TransactionalProducer {
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
        const txn = await this.#client.beginTransaction(FRESH_PRODUCER);
        await txn.cancel();
      } catch (error) {
        throw this.#map(error, 'initialising');
      }
    });
  }

  /** A producer fence found in a library error makes every later call fail with it (the producer is dead). */
  #map(error: unknown, what: string, groupFencing = false): Error {
    const mapped = mapTransactionError(error, this.transactionalId, what, groupFencing);
    if (mapped !== error && mapped instanceof FencedError && mapped.kind === 'producer') this.#fenced = mapped;
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

  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[], metadata?: GroupMetadata): Promise<void> {
    return this.#queue.run(async () => {
      const txn = this.#open('sendOffsets');
      if (!(consumer instanceof PlatformaticGroupConsumer)) throw new TransactionError('sendOffsets needs a consumer created by the same driver');
      if (offsets.length === 0) return;
      const meta = metadata ?? consumer.groupMetadata();
      try {
        await txn.addConsumer(consumer.client);
        await this.#txnOffsetCommit(consumer.client, meta, offsets);
      } catch (error) {
        throw this.#map(error, 'sending offsets', true);
      }
    });
  }

  /**
   * TxnOffsetCommit to the group coordinator, all partitions in one request, stamped with `meta`: the
   * generation the application saw. `Transaction.addOffset` of @platformatic/kafka 1.35.0 takes one
   * consumed message at a time and stamps it with the consumer's live generation, which after a
   * background rejoin would let this member commit offsets of a partition it no longer owns.
   */
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
        error || !found ? reject(error ?? new KafkaDriverError('no TxnOffsetCommit API')) : resolve(found),
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
        if (attempt < 10 && isRetriableCoordinatorError(error)) {
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
