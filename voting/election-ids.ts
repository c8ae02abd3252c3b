import type { KafkaDriver } from '../runtime/kafka/driver.js';
import { topicNames } from './topics.js';

/**
 * The ids of every election on the `elections` topic (read to its end, read_committed), sorted.
 * Elections are never deleted: a tombstone is ignored, as the workers ignore it.
 */
export async function listElectionIds(driver: KafkaDriver, prefix = ''): Promise<string[]> {
  const topic = topicNames(prefix).elections;
  const admin = driver.createAdmin({ clientId: 'votestream-elections' });
  const partitions = await admin
    .partitionCounts([topic])
    .then((counts) => counts.get(topic) ?? 1)
    .finally(() => admin.close());
  const reader = await driver.createReader({
    partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    isolation: 'read_committed',
    clientId: 'votestream-elections',
  });
  const ids = new Set<string>();
  try {
    await reader.readToEnd((batch) => {
      for (const r of batch) {
        if (r.key !== null && r.value !== null) ids.add(r.key.toString('utf8'));
      }
    });
  } finally {
    await reader.close();
  }
  return [...ids].sort();
}
