/** The idempotent (non-transactional) producer. */
import { Producer as PltProducer } from '@platformatic/kafka';
import type { ProduceResult, Producer, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { describe } from './error-mapping.js';
import { SerialQueue } from './helpers.js';
import { toProduceMessages, toProduceResult } from './produce.js';

export class PlatformaticProducer implements Producer {
  readonly #client: PltProducer;
  readonly #queue = new SerialQueue();

  constructor(brokers: string[], clientId: string) {
    this.#client = new PltProducer({
      clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: -1,
      timeout: 15_000,
      retryDelay: 250,
    });
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      if (records.length === 0) return { offsets: [] };
      const messages = await toProduceMessages(this.#client, records);
      try {
        return toProduceResult(await this.#client.send({ messages }));
      } catch (error) {
        throw new KafkaDriverError(`produce failed: ${describe(error)}`, { cause: error });
      }
    });
  }

  async close(): Promise<void> {
    await this.#client.close(true);
  }
}
