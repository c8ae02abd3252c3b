/**
 * A transactional producer over a FakeCluster, with the real one's contract
 * (platformatic/transactional-producer.ts): created after InitProducerId, which fences older
 * producers of the same transactionalId and aborts their open transaction; one transaction at a
 * time; after a producer fence only close() works; sendOffsets is stamped with the generation the
 * consumer's application saw, and a stale one raises FencedError('group') with the producer still
 * usable. Records sent in a transaction are in the log at once (they hold the last stable offset
 * back) but read_committed readers see them only after commit.
 */
import type { GroupConsumer, GroupMetadata, ProduceResult, ProducerRecord, TopicPartitionOffset, TransactionalProducer, TransactionalProducerOptions } from '../driver.js';
import { FencedError, TransactionError } from '../errors.js';
import type { FakeCluster } from './fake-cluster.js';
import type { FakeClientContext } from './fake-client.js';
import { FakeGroupConsumer } from './fake-group-consumer.js';
import { tpKey } from './fake-groups.js';
import type { FakeTransaction } from './fake-transactions.js';

export class FakeTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string;
  readonly clientId: string;
  readonly #cluster: FakeCluster;
  readonly #driver: string;
  readonly #timeoutMs: number;
  readonly #fencesByGeneration: boolean;
  /** Our epoch: a newer one on the coordinator means we are a zombie. */
  readonly #epoch: number;
  #txn: FakeTransaction | null = null;
  #fenced: FencedError | null = null;
  #closed = false;
  /** Calls are serialised, as the real producer's are (its SerialQueue). */
  #tail: Promise<unknown> = Promise.resolve();

  /** Use FakeKafkaDriver.createTransactionalProducer. */
  constructor(ctx: FakeClientContext, clientId: string, options: TransactionalProducerOptions) {
    this.#cluster = ctx.cluster;
    this.#driver = ctx.driver;
    this.clientId = clientId;
    this.transactionalId = options.transactionalId;
    this.#timeoutMs = options.transactionTimeoutMs ?? 10_000;
    this.#fencesByGeneration = ctx.fencesOffsetsByGeneration !== false;
    this.#epoch = ctx.cluster.initProducer(options.transactionalId);
  }

  get inTransaction(): boolean {
    return this.#txn !== null;
  }

  /** The epoch InitProducerId gave this producer. */
  get epoch(): number {
    return this.#epoch;
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Checks closed and fenced state. A fence is remembered, and the transaction the coordinator
   * already aborted is forgotten, so that every later call fails the same way.
   */
  #ready(): void {
    if (this.#closed) throw new TransactionError(`producer ${this.transactionalId} is closed`, { abortable: false });
    if (this.#fenced) throw this.#fenced;
    try {
      this.#cluster.checkEpoch(this.transactionalId, this.#epoch);
    } catch (error) {
      if (error instanceof FencedError) {
        this.#fenced = error;
        this.#txn = null;
      }
      throw error;
    }
  }

  #open(what: string): FakeTransaction {
    this.#ready();
    if (this.#txn === null) throw new TransactionError(`no open transaction for ${what}`);
    return this.#txn;
  }

  begin(): Promise<void> {
    return this.#run(async () => {
      await this.#cluster.enter('begin', this.#driver, this.transactionalId);
      this.#ready();
      if (this.#txn !== null) throw new TransactionError(`a transaction of ${this.transactionalId} is already open`);
      this.#txn = this.#cluster.beginTransaction(this.transactionalId, this.#epoch, this.#timeoutMs);
    });
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#run(async () => {
      await this.#cluster.enter('send', this.#driver, this.transactionalId);
      const txn = this.#open('send');
      if (records.length === 0) return { offsets: [] };
      return this.#cluster.append(records, this.transactionalId, txn);
    });
  }

  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[], metadata?: GroupMetadata): Promise<void> {
    return this.#run(async () => {
      await this.#cluster.enter('sendOffsets', this.#driver, this.transactionalId);
      const txn = this.#open('sendOffsets');
      if (!(consumer instanceof FakeGroupConsumer) || consumer.cluster !== this.#cluster) {
        throw new TransactionError('sendOffsets needs a consumer created by a fake driver of the same cluster');
      }
      if (offsets.length === 0) return;
      const meta = metadata ?? consumer.groupMetadata();
      if (this.#fencesByGeneration) this.#cluster.checkGeneration(meta);
      let pending = txn.offsets.get(meta.groupId);
      if (pending === undefined) txn.offsets.set(meta.groupId, (pending = new Map()));
      for (const { topic, partition, offset } of offsets) pending.set(tpKey({ topic, partition }), { topic, partition, offset });
      // Holding offsets makes require_stable readers wait: wake them so they notice.
      this.#cluster.notify();
    });
  }

  commit(): Promise<void> {
    return this.#run(async () => {
      await this.#cluster.enter('commit', this.#driver, this.transactionalId);
      const txn = this.#open('commit');
      this.#cluster.endTransaction(txn, true);
      this.#txn = null;
    });
  }

  abort(): Promise<void> {
    return this.#run(async () => {
      await this.#cluster.enter('abort', this.#driver, this.transactionalId);
      this.#ready();
      const txn = this.#txn;
      if (txn === null) return;
      this.#cluster.endTransaction(txn, false);
      this.#txn = null;
    });
  }

  /** Like the real one: a transaction left open stays open on the coordinator until it times out or the id is initialised again. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
