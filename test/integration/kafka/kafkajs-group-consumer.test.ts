import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord, GroupConsumer, KafkaAdmin, TopicPartition } from '../../../runtime/kafka/driver.js';
import { KafkajsDriver } from '../../../runtime/kafka/kafkajs-driver.js';
import { services, uniquePrefix } from '../../support/services.js';

/**
 * The kafkajs group consumer's own paths the shared driver contract does not reach: kafkajs pushes
 * batches (eachBatch) and the driver turns them into poll() (runtime/kafka/kafkajs/batch-pump.ts), so
 * pause, seek and maxRecords must drop, refetch and hold back batches without losing or repeating a record.
 */
let driver: KafkajsDriver;
let admin: KafkaAdmin;
const topics: string[] = [];
const groups: string[] = [];

beforeAll(() => {
  driver = new KafkajsDriver({ brokers: services().brokers, clientId: 'it-kafkajs-consumer' });
  admin = driver.createAdmin();
});

afterAll(async () => {
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.deleteTopics(topics).catch(() => undefined);
  await admin.close();
});

const offsetsOf = (records: readonly ConsumedRecord[], partition: number): number[] =>
  records.filter((r) => r.partition === partition).map((r) => Number(r.offset));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function pollUntil(consumer: GroupConsumer, until: (all: ConsumedRecord[]) => boolean, maxRecords: number): Promise<ConsumedRecord[]> {
  const all: ConsumedRecord[] = [];
  const deadline = Date.now() + 20_000;
  while (!until(all)) {
    if (Date.now() > deadline) throw new Error(`pollUntil timed out after ${all.length} records`);
    const batch = await consumer.poll({ maxWaitMs: 200, maxRecords });
    expect(batch.length).toBeLessThanOrEqual(maxRecords);
    all.push(...batch);
  }
  return all;
}

describe('kafkajs group consumer: pause, seek and maxRecords over the push consumer', () => {
  it('delivers every record once, in order per partition, across maxRecords, pause, seek and resume', async () => {
    const prefix = uniquePrefix('kjs-gc');
    const topic = `${prefix}in`;
    await admin.ensureTopics([{ name: topic, partitions: 2, replicationFactor: 1, configs: {} }]);
    topics.push(topic);
    const groupId = `${prefix}group`;
    groups.push(groupId);
    const source = await driver.createProducer();
    await source.send(range(0, 20).map((i) => ({ topic, partition: i % 2, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })));
    await source.close();

    const consumer = await driver.createGroupConsumer({ groupId, topics: [topic], heartbeatIntervalMs: 300 });
    const p0: TopicPartition = { topic, partition: 0 };
    const p1: TopicPartition = { topic, partition: 1 };
    try {
      // maxRecords 2: batches are handed over in pieces, nothing skipped or repeated.
      const first = await pollUntil(consumer, (all) => offsetsOf(all, 1).length >= 2 && all.length >= 4, 2);
      const seen0 = offsetsOf(first, 0);
      const seen1 = offsetsOf(first, 1);
      expect(seen0).toEqual(range(0, seen0.length));
      expect(seen1).toEqual(range(0, seen1.length));
      expect(consumer.position(p0)).toBe(BigInt(seen0.length));
      expect(consumer.position(p1)).toBe(BigInt(seen1.length));

      // Paused: partition 1 yields nothing while partition 0 is read to its end.
      consumer.pause([p1]);
      expect(consumer.paused()).toEqual([p1]);
      const whilePaused = await pollUntil(consumer, (all) => seen0.length + offsetsOf(all, 0).length >= 10, 3);
      expect(offsetsOf(whilePaused, 1)).toEqual([]);
      expect(offsetsOf(whilePaused, 0)).toEqual(range(seen0.length, 10));
      expect(consumer.position(p1)).toBe(BigInt(seen1.length));

      // Seek back on partition 0: the same records again, from there.
      consumer.seek({ ...p0, offset: 3n });
      expect(consumer.position(p0)).toBe(3n);
      const replay = await pollUntil(consumer, (all) => offsetsOf(all, 0).length >= 7, 4);
      expect(offsetsOf(replay, 0)).toEqual(range(3, 10));
      expect(offsetsOf(replay, 1)).toEqual([]);

      // Resumed: partition 1 goes on where it stopped.
      consumer.resume([p1]);
      expect(consumer.paused()).toEqual([]);
      const rest = await pollUntil(consumer, (all) => seen1.length + offsetsOf(all, 1).length >= 10, 3);
      expect([...seen1, ...offsetsOf(rest, 1)]).toEqual(range(0, 10));
      expect(offsetsOf(rest, 0)).toEqual([]);
      expect(rest.filter((r) => r.partition === 1).map((r) => r.value?.toString())).toEqual(range(seen1.length, 10).map((o) => `v${o * 2 + 1}`));

      await consumer.commitSync([
        { ...p0, offset: consumer.position(p0)! },
        { ...p1, offset: consumer.position(p1)! },
      ]);
      expect(await consumer.committed()).toEqual([
        { ...p0, offset: 10n },
        { ...p1, offset: 10n },
      ]);
      expect(await consumer.poll({ maxWaitMs: 300 })).toEqual([]);
    } finally {
      await consumer.close();
    }
  }, 60_000);
});
