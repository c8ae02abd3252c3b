/**
 * A KafkaDriver over an in-memory FakeCluster, for unit tests of the runtime (stream thread, task
 * manager, commit modes) without a broker. Drivers sharing one cluster play separate processes:
 * give each a `name` to scope faults to it (`cluster.faults.pauseNext('poll', { driver: 'a' })`).
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
} from '../driver.js';
import { FakeAdmin } from './fake-admin.js';
import { FakeCluster } from './fake-cluster.js';
import type { FakeClientContext } from './fake-client.js';
import { FakeGroupConsumer } from './fake-group-consumer.js';
import { FakeProducer } from './fake-producer.js';
import { FakeReader } from './fake-reader.js';
import { FakeTransactionalProducer } from './fake-transactional-producer.js';

export interface FakeKafkaDriverOptions {
  /** Default: a new cluster of its own. */
  readonly cluster?: FakeCluster;
  /** The simulated process's name, for fault scopes and client ids. Default `fake-<n>`. */
  readonly name?: string;
  /** Default true. False plays a client without KIP-447 (kafkajs): sendOffsets is not checked against the generation. */
  readonly fencesOffsetsByGeneration?: boolean;
}

let drivers = 0;

export class FakeKafkaDriver implements KafkaDriver {
  readonly cluster: FakeCluster;
  readonly name: string;
  readonly fencesOffsetsByGeneration: boolean;
  readonly #ctx: FakeClientContext;
  #seq = 0;

  constructor(options: FakeKafkaDriverOptions = {}) {
    this.cluster = options.cluster ?? new FakeCluster();
    this.name = options.name ?? `fake-${++drivers}`;
    this.fencesOffsetsByGeneration = options.fencesOffsetsByGeneration ?? true;
    this.#ctx = { cluster: this.cluster, driver: this.name, fencesOffsetsByGeneration: this.fencesOffsetsByGeneration };
  }

  #id(kind: string, given: string | undefined): string {
    return given ?? `${this.name}-${kind}-${++this.#seq}`;
  }

  createAdmin(options: { readonly clientId?: string } = {}): KafkaAdmin {
    return new FakeAdmin(this.#ctx, this.#id('admin', options.clientId));
  }

  async createGroupConsumer(options: GroupConsumerOptions): Promise<GroupConsumer> {
    await this.cluster.enter('createGroupConsumer', this.name, options.groupId);
    return new FakeGroupConsumer(this.#ctx, this.#id('consumer', options.clientId), options);
  }

  async createTransactionalProducer(options: TransactionalProducerOptions): Promise<TransactionalProducer> {
    await this.cluster.enter('createTransactionalProducer', this.name, options.transactionalId);
    return new FakeTransactionalProducer(this.#ctx, this.#id('txn', options.clientId), options);
  }

  async createProducer(options: ProducerOptions = {}): Promise<Producer> {
    return new FakeProducer(this.#ctx, this.#id('producer', options.clientId));
  }

  async createReader(options: ReaderOptions): Promise<Reader> {
    const clientId = this.#id('reader', options.clientId);
    await this.cluster.enter('createReader', this.name, clientId);
    return new FakeReader(this.#ctx, clientId, options);
  }
}
