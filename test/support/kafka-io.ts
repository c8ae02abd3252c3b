import { createKafkaDriver, KAFKA_DRIVERS, type KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import { ConfigError } from '../../runtime/errors.js';
import type { ConsumedRecord, KafkaDriver, ProducerRecord } from '../../runtime/kafka/driver.js';
import { topicSpecs } from '../../voting/topics.js';
import { waitUntil } from './poll.js';

/**
 * The Kafka client the integration tests run on (env KAFKA_DRIVER; vitest's 'integration-kafkajs'
 * project sets it). Workers spawned through the CLI inherit the same env, so both sides agree.
 */
export const TEST_DRIVER: KafkaDriverName = parseDriverName(process.env.KAFKA_DRIVER);

function parseDriverName(value: string | undefined): KafkaDriverName {
  if (value === undefined || value === '') return 'platformatic';
  const known = KAFKA_DRIVERS.find((d) => d === value);
  // A typo must not silently test the default client instead.
  if (known === undefined) throw new ConfigError(`KAFKA_DRIVER=${value} is not one of ${KAFKA_DRIVERS.join(', ')}`);
  return known;
}

export function testDriver(brokers: string): KafkaDriver {
  return createKafkaDriver(TEST_DRIVER, { brokers, clientId: 'test' });
}

/** Produces with an idempotent acks=all producer, in chunks. */
export async function produce(driver: KafkaDriver, records: readonly ProducerRecord[], chunk = 5000): Promise<void> {
  const producer = await driver.createProducer();
  try {
    for (let i = 0; i < records.length; i += chunk) await producer.send(records.slice(i, i + chunk));
  } finally {
    await producer.close();
  }
}

/**
 * Reads every partition of a topic from the start, read_committed, until `expected` records arrived
 * and the topic has nothing more at its end, or the deadline passes; returns what it read.
 */
export async function readAll(driver: KafkaDriver, topic: string, expected: number, timeoutMs = 120_000): Promise<ConsumedRecord[]> {
  const admin = driver.createAdmin();
  const partitions = (await admin.partitionCounts([topic])).get(topic) ?? 1;
  await admin.close();
  const reader = await driver.createReader({
    partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    isolation: 'read_committed',
  });
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const batch = await reader.poll({ maxWaitMs: 500 });
      out.push(...batch);
      if (out.length >= expected && batch.length === 0) {
        // Nothing more right now: confirm we are at the end, so "exactly N" means exactly.
        const ends = await reader.endOffsets();
        if (ends.every((e) => (reader.position(e) ?? 0n) >= e.offset)) break;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/**
 * Waits until `groupId` has committed the end of `topic` on every partition. For an input topic
 * written outside transactions, and a group that commits its offsets with its outputs, every
 * output of what was produced so far is then committed: read outputs after this (and after the
 * app stopped), never before, or a late duplicate could slip past the check.
 */
export async function waitForGroupAtEnd(driver: KafkaDriver, groupId: string, topic: string, timeoutMs = 240_000): Promise<void> {
  let behind = '';
  await waitUntil(
    async () => {
      const admin = driver.createAdmin();
      try {
        const ends = await admin.endOffsets([topic]);
        const committed = new Map((await admin.committedOffsets(groupId, [topic])).map((c) => [c.partition, c.offset]));
        const lagging = ends.filter((e) => (committed.get(e.partition) ?? 0n) !== e.offset);
        behind = lagging.map((e) => `p${e.partition} ${committed.get(e.partition) ?? 'none'}/${e.offset}`).join(', ');
        return lagging.length === 0;
      } finally {
        await admin.close();
      }
    },
    () => `group ${groupId} to commit the end of ${topic} (behind: ${behind})`,
    { timeoutMs, intervalMs: 250 },
  );
}

/** Creates the voting topics under `prefix` (DESIGN section 3 configs) with `partitions` partitions. */
export async function createVotingTopics(driver: KafkaDriver, prefix: string, partitions: number): Promise<void> {
  const admin = driver.createAdmin();
  try {
    await admin.ensureTopics(topicSpecs({ prefix, partitions }));
  } finally {
    await admin.close();
  }
}

/** Every record of a topic (read_committed), partition by partition in offset order. */
export async function readTopic(driver: KafkaDriver, topic: string): Promise<ConsumedRecord[]> {
  const admin = driver.createAdmin();
  const partitions = await admin.partitionCounts([topic]).finally(() => admin.close());
  const reader = await driver.createReader({
    partitions: Array.from({ length: partitions.get(topic) ?? 1 }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    isolation: 'read_committed',
  });
  const out: ConsumedRecord[] = [];
  try {
    await reader.readToEnd((batch) => {
      out.push(...batch);
    });
  } finally {
    await reader.close();
  }
  return out.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}
