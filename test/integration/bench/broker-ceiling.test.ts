import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokerCpuSeconds,
  createFreshTopic,
  ensureKafkaTools,
  runConsumerPerformance,
  runProducerPerformance,
  type FreshTopic,
} from '../../../benchmarks/peers/broker-ceiling.js';
import { stackConfig } from '../../../infra/stack-config.js';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { services } from '../../support/services.js';

/**
 * Kafka's own ProducerPerformance and ConsumerPerformance against the real broker: every record the
 * producer reports is in the log exactly once, and the consumer reads exactly those back. The
 * figures themselves are the benchmark's business; here they only have to be real (positive).
 */

const RECORDS = 20_000;
const RECORD_SIZE = 160;
const PARTITIONS = 12;
const TEST_TIMEOUT = 180_000;

let topic: FreshTopic;

beforeAll(async () => {
  // The first run resolves the jars through Maven; later runs find the marker.
  await ensureKafkaTools((msg) => process.stderr.write(`[kafka-tools] ${msg}\n`));
  topic = await createFreshTopic(services().brokers, PARTITIONS, 'it-broker-ceiling');
}, TEST_TIMEOUT);

afterAll(async () => {
  await topic?.remove();
});

describe('broker ceiling with Kafka tools', () => {
  it(
    `ProducerPerformance writes ${RECORDS} records of ${RECORD_SIZE} B exactly once; ConsumerPerformance reads exactly those back`,
    async () => {
      const { brokers } = services();
      // The broker's CPU is only readable when it is the local stack's process.
      const config = stackConfig({ dataDir: process.env.VOTESTREAM_TEST_STACK_DIR ?? '.stack' });
      const brokerBefore = brokerCpuSeconds(config);

      const produced = await runProducerPerformance({ brokers, topic: topic.name, records: RECORDS, recordSize: RECORD_SIZE });
      expect(produced.records).toBe(RECORDS);
      for (const figure of [produced.recordsPerSecond, produced.mbPerSecond, produced.avgLatencyMs, produced.maxLatencyMs, produced.cpuSeconds, produced.wallSeconds]) {
        expect(figure).toBeGreaterThan(0);
      }
      // Percentiles are whole milliseconds: on a fast run the median may honestly be 0.
      expect(produced.p50Ms).toBeGreaterThanOrEqual(0);
      expect(produced.p50Ms).toBeLessThanOrEqual(produced.p95Ms);
      expect(produced.p95Ms).toBeLessThanOrEqual(produced.p99Ms);
      expect(produced.p99Ms).toBeLessThanOrEqual(produced.p999Ms);
      expect(produced.p999Ms).toBeLessThanOrEqual(produced.maxLatencyMs);
      expect(produced.maxLatencyMs).toBeGreaterThanOrEqual(produced.avgLatencyMs);

      // Idempotence and acks=all: the log holds every acknowledged record once, no more.
      const admin = new PlatformaticKafkaDriver({ brokers, clientId: 'it-broker-ceiling' }).createAdmin();
      try {
        const ends = await admin.endOffsets([topic.name], 'read_uncommitted');
        expect(ends).toHaveLength(PARTITIONS);
        expect(ends.reduce((sum, e) => sum + e.offset, 0n)).toBe(BigInt(RECORDS));
      } finally {
        await admin.close();
      }

      for (const isolation of ['read_uncommitted', 'read_committed'] as const) {
        const consumed = await runConsumerPerformance({ brokers, topic: topic.name, messages: RECORDS, isolation });
        expect(consumed.records).toBe(RECORDS);
        for (const figure of [consumed.recordsPerSecond, consumed.mbPerSecond, consumed.elapsedRecordsPerSecond, consumed.cpuSeconds, consumed.wallSeconds]) {
          expect(figure).toBeGreaterThan(0);
        }
        // The tool's MB are MiB of values: 20,000 x 160 B.
        expect((consumed.mbPerSecond * (consumed.fetchMs / 1000)) / ((RECORDS * RECORD_SIZE) / 2 ** 20)).toBeCloseTo(1, 1);
      }

      const brokerAfter = brokerCpuSeconds(config);
      if (services().origin === 'local-stack') {
        expect(brokerBefore).toBeDefined();
        expect(brokerAfter).toBeDefined();
        expect(brokerAfter ?? 0).toBeGreaterThan(brokerBefore ?? Infinity);
      }
    },
    TEST_TIMEOUT,
  );
});
