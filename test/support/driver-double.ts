import type {
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  KafkaAdmin,
  KafkaDriver,
  PollOptions,
  ProduceResult,
  Producer,
  ProducerOptions,
  ProducerRecord,
  Reader,
  ReaderOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
  TransactionalProducerOptions,
} from '../../runtime/kafka/driver.js';

/**
 * Points where a test can step into the runtime's Kafka traffic: each hook runs before the real
 * call and may wait (to force an interleaving) or throw (to inject a failure the real broker
 * cannot be made to give on cue). Everything else goes to the real driver unchanged.
 */
export interface DriverHooks {
  createGroupConsumer?(options: GroupConsumerOptions): Promise<void> | void;
  poll?(groupId: string): Promise<void> | void;
  committed?(groupId: string, partitions: readonly TopicPartition[]): Promise<void> | void;
  commitSync?(groupId: string): Promise<void> | void;
  createTransactionalProducer?(options: TransactionalProducerOptions): Promise<void> | void;
  send?(records: readonly ProducerRecord[]): Promise<void> | void;
  sendOffsets?(offsets: readonly TopicPartitionOffset[]): Promise<void> | void;
  /** After a reader's real `readToEnd` finished (a restore read its changelog), before the caller goes on. */
  afterReadToEnd?(): Promise<void> | void;
  /** After a reader's real `poll` returned, before the caller sees the records (e.g. to hand them over late). */
  afterReaderPoll?(clientId: string | undefined, records: readonly ConsumedRecord[]): Promise<void> | void;
}

/** How often the runtime made each call, for assertions on what a recovery did or did not redo. */
export interface DriverCalls {
  createGroupConsumer: number;
  consumerClose: number;
  createTransactionalProducer: number;
}

/** A KafkaDriver over a real one, with hooks (see DriverHooks) and call counts. */
export class DriverDouble implements KafkaDriver {
  readonly calls: DriverCalls = { createGroupConsumer: 0, consumerClose: 0, createTransactionalProducer: 0 };
  readonly #real: KafkaDriver;
  readonly #hooks: DriverHooks;
  readonly #realConsumers = new WeakMap<GroupConsumer, GroupConsumer>();

  constructor(real: KafkaDriver, hooks: DriverHooks = {}) {
    this.#real = real;
    this.#hooks = hooks;
  }

  get fencesOffsetsByGeneration(): boolean {
    return this.#real.fencesOffsetsByGeneration;
  }

  createAdmin(options?: { readonly clientId?: string }): KafkaAdmin {
    return this.#real.createAdmin(options);
  }

  async createGroupConsumer(options: GroupConsumerOptions): Promise<GroupConsumer> {
    this.calls.createGroupConsumer++;
    await this.#hooks.createGroupConsumer?.(options);
    const real = await this.#real.createGroupConsumer(options);
    const hooks = this.#hooks;
    const calls = this.calls;
    const wrapped: GroupConsumer = {
      groupId: real.groupId,
      async poll(o?: PollOptions): Promise<ConsumedRecord[]> {
        await hooks.poll?.(real.groupId);
        return real.poll(o);
      },
      groupMetadata: () => real.groupMetadata(),
      assignment: () => real.assignment(),
      position: (tp) => real.position(tp),
      seek: (tp) => real.seek(tp),
      seekToCommitted: (partitions) => real.seekToCommitted(partitions),
      pause: (partitions) => real.pause(partitions),
      resume: (partitions) => real.resume(partitions),
      paused: () => real.paused(),
      async committed(partitions) {
        await hooks.committed?.(real.groupId, partitions ?? real.assignment());
        return real.committed(partitions);
      },
      async commitSync(offsets) {
        await hooks.commitSync?.(real.groupId);
        return real.commitSync(offsets);
      },
      close() {
        calls.consumerClose++;
        return real.close();
      },
    };
    this.#realConsumers.set(wrapped, real);
    return wrapped;
  }

  async createTransactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer> {
    this.calls.createTransactionalProducer++;
    await this.#hooks.createTransactionalProducer?.(options);
    const real = await this.#real.createTransactionalProducer(options);
    const hooks = this.#hooks;
    const consumers = this.#realConsumers;
    return {
      transactionalId: real.transactionalId,
      get inTransaction() {
        return real.inTransaction;
      },
      begin: () => real.begin(),
      async send(records): Promise<ProduceResult> {
        await hooks.send?.(records);
        return real.send(records);
      },
      async sendOffsets(consumer, offsets, metadata) {
        await hooks.sendOffsets?.(offsets);
        return real.sendOffsets(consumers.get(consumer) ?? consumer, offsets, metadata);
      },
      commit: () => real.commit(),
      abort: () => real.abort(),
      close: () => real.close(),
    };
  }

  async createProducer(options?: ProducerOptions): Promise<Producer> {
    const real = await this.#real.createProducer(options);
    const hooks = this.#hooks;
    return {
      async send(records) {
        await hooks.send?.(records);
        return real.send(records);
      },
      close: () => real.close(),
    };
  }

  async createReader(options: ReaderOptions): Promise<Reader> {
    const real = await this.#real.createReader(options);
    const hooks = this.#hooks;
    return {
      async poll(o) {
        const records = await real.poll(o);
        await hooks.afterReaderPoll?.(options.clientId, records);
        return records;
      },
      async readToEnd(onBatch, o) {
        const result = await real.readToEnd(onBatch, o);
        await hooks.afterReadToEnd?.();
        return result;
      },
      endOffsets: () => real.endOffsets(),
      position: (tp) => real.position(tp),
      seek: (tp) => real.seek(tp),
      close: () => real.close(),
    };
  }
}
