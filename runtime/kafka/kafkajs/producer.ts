/** The idempotent, acks=all, non-transactional producer over kafkajs 2.2.4. */
import type { Kafka, Producer as KjsProducer } from 'kafkajs';
import type { ProduceResult, Producer, ProducerRecord } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { SerialQueue } from '../platformatic/helpers.js';
import { describeKafkajs } from './error-mapping.js';
import { fromRecordMetadata, toKafkajsMessages, votestreamPartitioner } from './produce.js';

/** Partition counts are re-read this often (the platformatic driver's metadata age). */
export const METADATA_MAX_AGE_MS = 5_000;

export class KafkajsProducer implements Producer {
  readonly #client: KjsProducer;
  readonly #queue = new SerialQueue();

  constructor(kafka: Kafka) {
    this.#client = kafka.producer({
      createPartitioner: votestreamPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      metadataMaxAge: METADATA_MAX_AGE_MS,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.#client.connect();
    } catch (error) {
      throw new KafkaDriverError(`connecting producer failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    return this.#queue.run(async () => {
      if (records.length === 0) return { offsets: [] };
      try {
        return fromRecordMetadata(await this.#client.sendBatch({ topicMessages: toKafkajsMessages(records), acks: -1 }));
      } catch (error) {
        if (error instanceof KafkaDriverError) throw error;
        throw new KafkaDriverError(`produce failed: ${describeKafkajs(error)}`, { cause: error });
      }
    });
  }

  async close(): Promise<void> {
    await this.#client.disconnect();
  }
}
