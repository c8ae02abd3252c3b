/** The idempotent, non-transactional producer over a FakeCluster: records are visible as soon as send resolves. */
import type { ProduceResult, Producer, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import type { FakeClientContext } from './fake-group-consumer.js';

export class FakeProducer implements Producer {
  readonly clientId: string;
  readonly #ctx: FakeClientContext;
  #closed = false;

  /** Use FakeKafkaDriver.createProducer. */
  constructor(ctx: FakeClientContext, clientId: string) {
    this.#ctx = ctx;
    this.clientId = clientId;
  }

  async send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    if (this.#closed) throw new KafkaDriverError(`producer ${this.clientId} is closed`);
    await this.#ctx.cluster.enter('produce', this.#ctx.driver, this.clientId);
    return this.#ctx.cluster.append(records, this.clientId, null);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
