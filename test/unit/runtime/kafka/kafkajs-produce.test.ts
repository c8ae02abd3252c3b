import type { Producer as PltProducer } from '@platformatic/kafka';
import fc from 'fast-check';
import type { Message, PartitionerArgs, PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '../../../../runtime/kafka/driver.js';
import { KafkaDriverError } from '../../../../runtime/kafka/errors.js';
import { toKafkajsMessages, votestreamPartitioner } from '../../../../runtime/kafka/kafkajs/produce.js';
import { fromKafkajsHeaders, toKafkajsHeaders } from '../../../../runtime/kafka/kafkajs/records.js';
import { toProduceMessages } from '../../../../runtime/kafka/platformatic/produce.js';

const buf = (s: string): Buffer => Buffer.from(s);

/** Partition metadata as kafkajs hands it to a partitioner: one entry per partition. */
function partitionMetadata(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }));
}

/** The partitions the kafkajs driver gives `records`, called the way kafkajs 2.2.4 calls a partitioner (every message). */
function kafkajsPartitions(records: readonly ProducerRecord[], count: number): number[] {
  const partitioner = votestreamPartitioner();
  const out: number[] = [];
  for (const { topic, messages } of toKafkajsMessages(records)) {
    for (const message of messages) out.push(partitioner({ topic, partitionMetadata: partitionMetadata(count), message } as PartitionerArgs));
  }
  return out;
}

/** The partitions the platformatic driver's produce path gives `records` (its one library call: cached metadata). */
async function platformaticPartitions(records: readonly ProducerRecord[], count: number): Promise<Array<number | undefined>> {
  const client = { metadata: async () => ({ topics: new Map([['out', { partitionsCount: count }]]) }) } as unknown as PltProducer;
  return (await toProduceMessages(client, records)).map((m) => m.partition);
}

describe('kafkajs driver: partition choice', () => {
  it('puts every key on the same partition as the platformatic driver (Java-compatible murmur2)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 64 }), async (keys, count) => {
        const records = keys.map((k) => ({ topic: 'out', key: Buffer.from(k), value: buf('v') }));
        expect(kafkajsPartitions(records, count)).toEqual(await platformaticPartitions(records, count));
      }),
      { numRuns: 200 },
    );
  });

  it('honours explicit partitions and sourcePartition the same way, explicit first', async () => {
    const records: ProducerRecord[] = [
      { topic: 'out', partition: 3, key: buf('voter-0'), value: buf('explicit') },
      { topic: 'out', key: null, sourcePartition: 7, value: buf('from 7') },
      { topic: 'out', partition: 1, key: null, sourcePartition: 2, value: buf('explicit over source') },
      { topic: 'out', key: buf('voter-0'), sourcePartition: 4, value: buf('key over source') },
    ];
    const expected = await platformaticPartitions(records, 5);
    expect(expected).toEqual([3, 2, 1, expected[3]]);
    expect(kafkajsPartitions(records, 5)).toEqual(expected);
  });

  it('spreads records with neither key nor partition round-robin', () => {
    const records = Array.from({ length: 6 }, () => ({ topic: 'out', key: null, value: buf('v') }));
    expect(kafkajsPartitions(records, 3)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('refuses a partition the topic does not have, as the platformatic driver does', async () => {
    const record: ProducerRecord = { topic: 'out', partition: 5, key: null, value: buf('x') };
    await expect(platformaticPartitions([record], 5)).rejects.toThrow(/partition 5 does not exist/);
    expect(() => kafkajsPartitions([record], 5)).toThrow(KafkaDriverError);
    expect(() => kafkajsPartitions([record], 5)).toThrow(/partition 5 does not exist in topic out \(5 partitions\)/);
  });

  it('groups messages by topic in record order, and refuses messages it did not make', () => {
    const groups = toKafkajsMessages([
      { topic: 'a', key: buf('1'), value: buf('x') },
      { topic: 'b', key: buf('2'), value: null, timestamp: 1_700_000_000_123 },
      { topic: 'a', key: null, value: buf('y') },
    ]);
    expect(groups.map((g) => [g.topic, g.messages.map((m) => String(m.value))])).toEqual([
      ['a', ['x', 'y']],
      ['b', ['null']],
    ]);
    expect(groups[1].messages[0].timestamp).toBe('1700000000123');
    const stranger: Message = { key: null, value: buf('?') };
    expect(() => votestreamPartitioner()({ topic: 'a', partitionMetadata: partitionMetadata(2), message: stranger })).toThrow(KafkaDriverError);
  });
});

describe('kafkajs driver: headers', () => {
  it('keeps duplicates of a name in order; interleaved names come back grouped by name (kafkajs 2.2.4 headers are an object)', () => {
    const written = toKafkajsHeaders([
      ['h', buf('x')],
      ['other', buf('o')],
      ['h', buf('y')],
    ]);
    expect(fromKafkajsHeaders(written).map(([n, v]) => `${n}=${v.toString()}`)).toEqual(['h=x', 'h=y', 'other=o']);
    expect(toKafkajsHeaders([])).toBeUndefined();
    expect(fromKafkajsHeaders({ s: 'text', u: undefined })).toEqual([
      ['s', buf('text')],
      ['u', Buffer.alloc(0)],
    ]);
  });
});
