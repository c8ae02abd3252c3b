/** The idempotent (non-transactional) producer. */
import { Producer as PltProducer } from '@platformatic/kafka';
import type { ProduceResult, Producer, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { describe } from './error-mapping.js';
import { SerialQueue } from './helpers.js';
import { toProduceMessages, toProduceResult } from './produce.js';

/** The part of the library's producer this class uses (a seam for the watchdog's test). */
export type ProduceClient = Pick<PltProducer, 'send' | 'close'> & Parameters<typeof toProduceMessages>[0];

export interface PlatformaticProducerOptions {
  /**
   * A send not settled by then is abandoned and the client replaced. Default 30 s: twice the
   * library's request timeout, so only a send that will never settle is cut off.
   */
  readonly sendTimeoutMs?: number;
  /** Makes the library's client; replaced clients are made again through it. */
  readonly createClient?: () => ProduceClient;
}

/**
 * Sends are serialised (one in flight keeps the idempotent sequence simple), so a send that never
 * settles would stall every later one for good. Seen in `votestream chaos` on three brokers: after
 * all were killed and restarted, the gateway's producer never acknowledged again (minutes) while
 * every worker carried on. The watchdog rejects such a send and starts over with a new client (a
 * new producer id): the records of the abandoned send may still land, which the caller already
 * allows for an unacknowledged send (the gateway answered 503; dedup judges any copy).
 */
export class PlatformaticProducer implements Producer {
  #client: ProduceClient;
  readonly #queue = new SerialQueue();
  readonly #sendTimeoutMs: number;
  readonly #createClient: () => ProduceClient;

  constructor(brokers: string[], clientId: string, options: PlatformaticProducerOptions = {}) {
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.#createClient =
      options.createClient ??
      (() =>
        new PltProducer({
          clientId,
          bootstrapBrokers: brokers,
          idempotent: true,
          acks: -1,
          timeout: 15_000,
          retryDelay: 250,
        }));
    this.#client = this.#createClient();
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      if (records.length === 0) return { offsets: [] };
      const client = this.#client;
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KafkaDriverError(`produce did not settle within ${this.#sendTimeoutMs} ms; the producer is replaced`)), this.#sendTimeoutMs);
      });
      try {
        const messages = await toProduceMessages(client, records);
        return toProduceResult(await Promise.race([client.send({ messages }), stalled]));
      } catch (error) {
        if (error instanceof KafkaDriverError) {
          this.#replace(client);
          throw error;
        }
        throw new KafkaDriverError(`produce failed: ${describe(error)}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  #replace(stuck: ProduceClient): void {
    if (this.#client !== stuck) return;
    this.#client = this.#createClient();
    // Forced: its pending send is what is stuck; whatever it settles to, nobody waits for it.
    stuck.close(true, () => undefined);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.#client.close(true, (error) => (error ? reject(error) : resolve())));
  }
}
