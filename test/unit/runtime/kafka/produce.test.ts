import type { Producer as PltProducer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '../../../../runtime/kafka/driver.js';
import { KafkaDriverError } from '../../../../runtime/kafka/errors.js';
import { toHeaderMap, toProduceMessages } from '../../../../runtime/kafka/platformatic/produce.js';
import { partitionForKey } from '../../../../runtime/partitioner.js';

/** The one call toProduceMessages makes on the library's producer: cached metadata for some topics. */
function metadataClient(counts: Record<string, number>) {
  const calls: string[][] = [];
  const client = {
    metadata: async ({ topics }: { topics: string[] }) => {
      calls.push(topics);
      return { topics: new Map(topics.filter((t) => t in counts).map((t) => [t, { partitionsCount: counts[t] }])) };
    },
  };
  return { client: client as unknown as PltProducer, calls };
}

const buf = (s: string): Buffer => Buffer.from(s);
const entries = (headers: unknown): [string, string][] =>
  [...(headers as Map<Buffer, Buffer>)].map(([name, value]) => [name.toString(), value.toString()]);

describe('toProduceMessages', () => {
  it('keeps repeated header names, in order, in one record and across records', async () => {
    const { client } = metadataClient({ out: 3 });
    const headers: [string, Buffer][] = [
      ['h', buf('x')],
      ['other', buf('o')],
      ['h', buf('y')],
      ['h', buf('z')],
    ];
    const [first, second] = await toProduceMessages(client, [
      { topic: 'out', key: buf('a'), value: buf('1'), headers },
      { topic: 'out', key: buf('b'), value: buf('2'), headers },
    ]);
    const expected = [
      ['h', 'x'],
      ['other', 'o'],
      ['h', 'y'],
      ['h', 'z'],
    ];
    expect(entries(first.headers)).toEqual(expected);
    expect(entries(second.headers)).toEqual(expected);
  });

  it('gives a header name repeated within one record a Buffer of its own each time', () => {
    const map = toHeaderMap([
      ['dup', buf('1')],
      ['dup', buf('2')],
      ['dup', buf('3')],
    ]);
    expect(map.size).toBe(3);
    expect(new Set(map.keys()).size).toBe(3);
  });

  it('passes no headers for a record without any, and keeps key, value, null and timestamp as given', async () => {
    const { client } = metadataClient({ out: 4 });
    const [none, empty, nulls] = await toProduceMessages(client, [
      { topic: 'out', partition: 1, key: buf('k'), value: buf('v'), timestamp: 1_700_000_000_123 },
      { topic: 'out', partition: 2, key: buf('k'), value: buf('v'), headers: [], timestamp: 1_700_000_000_123 },
      { topic: 'out', partition: 3, key: null, value: null },
    ]);
    expect(none).toEqual({ topic: 'out', partition: 1, key: buf('k'), value: buf('v'), headers: undefined, timestamp: 1_700_000_000_123n });
    expect(empty.headers).toBeUndefined();
    expect(empty.timestamp).toBe(1_700_000_000_123n);
    expect(nulls).toEqual({ topic: 'out', partition: 3, key: undefined, value: undefined, headers: undefined, timestamp: undefined });
  });

  it('partitions keyed records with the Java-compatible murmur2 and leaves keyless ones to round-robin', async () => {
    const { client, calls } = metadataClient({ a: 12, b: 5 });
    const keys = Array.from({ length: 20 }, (_, i) => buf(`key-${i}`));
    const records: ProducerRecord[] = [
      ...keys.map((key) => ({ topic: 'a', key, value: buf('v'), timestamp: 1 })),
      ...keys.map((key) => ({ topic: 'b', key, value: buf('v'), timestamp: 2 })),
      { topic: 'a', key: keys[0], value: buf('v'), timestamp: 3 },
      { topic: 'c', key: null, value: buf('v') },
    ];
    const messages = await toProduceMessages(client, records);
    expect(calls).toEqual([['a', 'b']]);
    expect(messages.map((m) => m.partition)).toEqual([
      ...keys.map((k) => partitionForKey(k, 12)),
      ...keys.map((k) => partitionForKey(k, 5)),
      partitionForKey(keys[0], 12),
      undefined,
    ]);
    expect(messages.map((m) => m.timestamp)).toEqual([...keys.map(() => 1n), ...keys.map(() => 2n), 3n, undefined]);
  });

  it('asks for no metadata when no record needs a partition count', async () => {
    const { client, calls } = metadataClient({});
    const messages = await toProduceMessages(client, [{ topic: 'x', key: null, value: buf('v') }]);
    expect(calls).toEqual([]);
    expect(messages[0].partition).toBeUndefined();
  });

  it('refuses an explicit partition the topic does not have, and a keyed record without metadata', async () => {
    const { client } = metadataClient({ out: 5 });
    for (const partition of [5, -1, 1.5]) {
      const error = await toProduceMessages(client, [{ topic: 'out', partition, key: null, value: buf('v') }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KafkaDriverError);
      expect((error as Error).message).toBe(`partition ${partition} does not exist in topic out (5 partitions)`);
    }
    await expect(toProduceMessages(client, [{ topic: 'gone', partition: 0, key: null, value: buf('v') }])).rejects.toThrow(
      'partition 0 does not exist in topic gone (0 partitions)',
    );
    const error = await toProduceMessages(client, [
      { topic: 'out', key: buf('k'), value: buf('v') },
      { topic: 'gone', key: buf('k'), value: buf('v') },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaDriverError);
    expect((error as Error).message).toBe('no metadata for topic gone');
  });
});
