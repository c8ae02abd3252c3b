/**
 * Reads a whole topic, every partition from its beginning to the end current when the read starts,
 * read_committed: what an auditor compares against is only what the pipeline committed. An aborted
 * transaction's records are never seen, so a vote "accepted" in an aborted batch is not an anomaly.
 */
import type { ConsumedRecord, KafkaDriver } from '../../runtime/kafka/driver.js';
import { readFailure } from './read-failure.js';

export interface ReadTopicOptions {
  readonly driver: KafkaDriver;
  readonly topic: string;
  readonly clientId: string;
  /** Called with every batch, in offset order per partition. */
  readonly onBatch: (records: readonly ConsumedRecord[]) => void;
}

/** Returns the number of records read. */
export async function readTopicToEnd(options: ReadTopicOptions): Promise<number> {
  const { driver, topic, clientId } = options;
  try {
    const admin = driver.createAdmin({ clientId });
    const partitions = await admin
      .partitionCounts([topic])
      .then((counts) => counts.get(topic) ?? 0)
      .finally(() => admin.close());
    const reader = await driver.createReader({
      partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
      isolation: 'read_committed',
      clientId,
    });
    try {
      const { records } = await reader.readToEnd((batch) => options.onBatch(batch));
      return records;
    } finally {
      await reader.close();
    }
  } catch (err) {
    throw readFailure(`Kafka topic ${topic}`, err);
  }
}
