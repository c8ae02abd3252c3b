import { describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { SerdeError, type Serde } from '../../../../topology/serdes/serde.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { timestampedSerde } from '../../../../topology/serdes/timestamped-serde.js';

/** Mirrors Kafka's SerializationTest (clients) for the serdes we have. */

const samples: [string, Serde<unknown>, unknown][] = [
  ['string', Serdes.string() as Serde<unknown>, 'my string'],
  ['int32', Serdes.int32() as Serde<unknown>, 42],
  ['int64', Serdes.int64() as Serde<unknown>, 42n],
  ['double', Serdes.double() as Serde<unknown>, 5.5],
  ['bytes', Serdes.bytes() as Serde<unknown>, Buffer.from('my bytes')],
];

describe('SerializationTest', () => {
  it('allSerdesShouldRoundtripInput', () => {
    for (const [, serde, value] of samples) expect(serde.deserialize('t', serde.serialize('t', value))).toEqual(value);
  });

  // DIFFERENCE: Kafka's serdes map null to null both ways. Ours cannot represent null and say so
  // with a SerdeError (a null that reached a sink or a source is a bug or needs a declared type);
  // Serdes.nullable(inner) carries Kafka's null (no key, tombstone) as null.
  it('allSerdesShouldSupportNull', () => {
    for (const [name, serde] of samples) {
      expect(() => serde.serialize('t', null), name).toThrow(SerdeError);
      expect(() => serde.serialize('t', undefined), name).toThrow(SerdeError);
      expect(() => serde.deserialize('t', null), name).toThrow(SerdeError);
      const nullable = Serdes.nullable(serde);
      expect(nullable.serialize('t', null), name).toBeNull();
      expect(nullable.deserialize('t', null), name).toBeNull();
    }
    expect(() => Serdes.double().serialize('t', null as never)).toThrow(
      new SerdeError('double serde cannot serialize null for topic "t": wrap it with Serdes.nullable'),
    );
  });

  it('allSerdesShouldSupportNull (json: null is the JSON text null, not a tombstone)', () => {
    const json = Serdes.json<unknown>();
    expect(json.serialize('t', null)?.toString()).toBe('null');
    expect(json.deserialize('t', Buffer.from('null'))).toBeNull();
    expect(() => json.deserialize('t', null)).toThrow(SerdeError);
    expect(() => json.serialize('t', undefined)).toThrow(SerdeError);
  });

  // Kafka throws SerializationException for a wrong type or width; ours a SerdeError.
  it('floatDeserializerShouldThrowSerializationExceptionOnTooFewBytes', () => {
    expect(() => Serdes.double().deserialize('t', Buffer.from([1, 2, 3]))).toThrow(SerdeError);
    expect(() => Serdes.int64().serialize('t', 1 as never)).toThrow(SerdeError);
    expect(() => Serdes.string().serialize('t', 1 as never)).toThrow(SerdeError);
    expect(() => Serdes.bytes().serialize('t', 'x' as never)).toThrow(SerdeError);
  });

  it('ValueAndTimestampSerializer layout: 8-byte big-endian timestamp, then the value', () => {
    const serde = timestampedSerde(Serdes.string());
    const bytes = serde.serialize('t', { value: 'v', timestamp: 258 })!;
    expect(bytes).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2, 0x76]));
    expect(serde.deserialize('t', bytes)).toEqual({ value: 'v', timestamp: 258 });
    const json = timestampedSerde<{ n: number }>(undefined);
    expect(json.deserialize('t', json.serialize('t', { value: { n: 1 }, timestamp: 5 }))).toEqual({ value: { n: 1 }, timestamp: 5 });
  });
});

describe('Tombstones still flow where the runtime already handled them', () => {
  it('a nullable value serde carries a tombstone through a stream and to a topic', async () => {
    const builder = new StreamsBuilder();
    const value = Serdes.nullable(Serdes.string());
    builder.stream('in', { key: Serdes.string(), value }).to('out', { value });
    const driver = new TopologyTestDriver(builder.build());
    try {
      await driver.createInputTopic('in', Serdes.string(), value).pipeInput('k', null);
      expect(driver.createOutputTopic('out', Serdes.string(), value).readKeyValuesToList()).toEqual([{ key: 'k', value: null }]);
    } finally {
      await driver.close();
    }
  });

  it('a global table deletes the key on a tombstone, whose value serde never sees null', async () => {
    const builder = new StreamsBuilder();
    builder.globalTable('g', { key: Serdes.string(), value: Serdes.string(), storeName: 'g-store' });
    const driver = new TopologyTestDriver(builder.build());
    try {
      const input = driver.createInputTopic('g', Serdes.string(), Serdes.nullable(Serdes.string()));
      await input.pipeInput('k', 'v');
      await input.pipeInput('k', null);
      expect(await (await driver.getKeyValueStore('g-store')).get('k')).toBeUndefined();
    } finally {
      await driver.close();
    }
  });
});
