/**
 * KafkaDriver over kafkajs 2.2.4 (see driver.ts for the contract), beside platformatic-driver.ts. The
 * pieces are in ./kafkajs/, one concept a file; where kafkajs is bypassed or worked around, the account of
 * its behaviour (checked against 2.2.4) is next to that code:
 * - batch-pump.ts: kafkajs' push consumer (eachBatch) turned into poll(), positions of our own.
 * - group-consumer.ts: membership is kafkajs'; the generation id is read from its debug log; no static
 *   membership.
 * - transactional-producer.ts: no KIP-447 (sendOffsets carries no generation; `metadata` is ignored).
 * - produce.ts: our Java-compatible partitioner decides every partition.
 * - offsets.ts: ListOffsets with an isolation level through kafkajs' private cluster factory; no
 *   require_stable.
 * - reader.ts: no assign mode in kafkajs; a reader is the only member of a group of its own.
 * - admin.ts, producer.ts, records.ts, error-mapping.ts.
 */
import type {
  GroupConsumer,
  GroupConsumerOptions,
  KafkaAdmin,
  KafkaDriver,
  Producer,
  ProducerOptions,
  Reader,
  ReaderOptions,
  TransactionalProducer,
  TransactionalProducerOptions,
} from './driver.js';
import { ClientIds, parseBrokers } from './client-naming.js';
import { KafkaDriverError } from './errors.js';
import { KafkajsAdmin } from './kafkajs/admin.js';
import { describeKafkajs } from './kafkajs/error-mapping.js';
import { KafkajsGroupConsumer, quietKafka } from './kafkajs/group-consumer.js';
import { KafkajsProducer } from './kafkajs/producer.js';
import { KafkajsReader } from './kafkajs/reader.js';
import { KafkajsTransactionalProducer } from './kafkajs/transactional-producer.js';

export interface KafkajsDriverOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** Prefix of the client ids of the clients this driver creates. Default 'votestream'. */
  readonly clientId?: string;
}

export class KafkajsDriver implements KafkaDriver {
  /** kafkajs 2.2.4 sends TxnOffsetCommit v0..v2, without the generation (kafkajs/transactional-producer.ts). */
  readonly fencesOffsetsByGeneration = false;
  readonly #brokers: string[];
  readonly #ids: ClientIds;

  constructor(options: KafkajsDriverOptions) {
    this.#brokers = parseBrokers(options.brokers);
    this.#ids = new ClientIds(options.clientId);
  }

  #config(kind: string, given: string | undefined): { brokers: string[]; clientId: string } {
    return { brokers: this.#brokers, clientId: this.#ids.next(kind, given) };
  }

  createAdmin(options: { readonly clientId?: string } = {}): KafkaAdmin {
    const config = this.#config('admin', options.clientId);
    return new KafkajsAdmin(quietKafka(config), this.#brokers.join(','), config.clientId);
  }

  async createGroupConsumer(options: GroupConsumerOptions): Promise<GroupConsumer> {
    const consumer = new KafkajsGroupConsumer(this.#config('consumer', options.clientId), options);
    try {
      await consumer.join();
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw error;
    }
    return consumer;
  }

  async createTransactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer> {
    const producer = new KafkajsTransactionalProducer(quietKafka(this.#config('txn', options.clientId)), options);
    try {
      await producer.init();
    } catch (error) {
      await producer.close().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  async createProducer(options: ProducerOptions = {}): Promise<Producer> {
    const producer = new KafkajsProducer(quietKafka(this.#config('producer', options.clientId)));
    await producer.connect();
    return producer;
  }

  async createReader(options: ReaderOptions): Promise<Reader> {
    const reader = new KafkajsReader(this.#config('reader', options.clientId), options);
    try {
      await reader.init(options);
    } catch (error) {
      await reader.close().catch(() => undefined);
      throw error instanceof KafkaDriverError ? error : new KafkaDriverError(`creating reader failed: ${describeKafkajs(error)}`, { cause: error });
    }
    return reader;
  }
}
