/**
 * KafkaDriver over @platformatic/kafka 1.35 (see driver.ts for the contract). The pieces are in
 * ./platformatic/, one concept a file. Where the library is bypassed or worked around, the account of
 * its behaviour (checked against 1.35.0) is next to that code:
 * - fetcher.ts, decode.ts: fetching with the Fetch API and a read_committed filter of our own (the
 *   library's lets earlier aborted transactions of a producer through).
 * - group-consumer.ts: membership is the library's Consumer, which rejoins in the background; changes
 *   are delivered from the next poll().
 * - transactional-producer.ts: InitProducerId with -1/-1 (the library sends 0/0), TxnOffsetCommit with
 *   the generation the application saw (the library stamps the live one).
 * - helpers.ts (SerialQueue): sends are serialised (sequence numbers, AddPartitionsToTxn dedup).
 * - produce.ts: Java-compatible key partitioning (the library's is not).
 * - reader.ts, producer.ts, admin.ts, offsets.ts, error-mapping.ts.
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
import { PlatformaticAdmin } from './platformatic/admin.js';
import { describe } from './platformatic/error-mapping.js';
import { PlatformaticGroupConsumer } from './platformatic/group-consumer.js';
import { PlatformaticProducer } from './platformatic/producer.js';
import { PlatformaticReader } from './platformatic/reader.js';
import { PlatformaticTransactionalProducer } from './platformatic/transactional-producer.js';

export { decodePartition } from './platformatic/decode.js';
export { kafkaErrorIds } from './platformatic/error-mapping.js';
export { tpKey } from './platformatic/helpers.js';

export interface PlatformaticDriverOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** Prefix of the client ids of the clients this driver creates. Default 'votestream'. */
  readonly clientId?: string;
}

export class PlatformaticKafkaDriver implements KafkaDriver {
  readonly fencesOffsetsByGeneration = true;
  readonly #brokers: string[];
  readonly #ids: ClientIds;

  constructor(options: PlatformaticDriverOptions) {
    this.#brokers = parseBrokers(options.brokers);
    this.#ids = new ClientIds(options.clientId);
  }

  #id(kind: string, given: string | undefined): string {
    return this.#ids.next(kind, given);
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
