import { describe, expect, it } from 'vitest';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { kvt, MockProcessorSupplier, withDriver } from './support.js';

/** Mirrors Kafka Streams' KStreamMapTest, KStreamMapValuesTest and KStreamSelectKeyTest. */
describe('KStreamMapTest', () => {
  it('testMap', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, number>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.string() })
      .map((key, value) => ({ key: value, value: key }))
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.string());
      for (const expectedKey of [0, 1, 2, 3]) await inputTopic.pipeInput(expectedKey, `V${expectedKey}`, 10 - expectedKey);
    });
    expect(supplier.processed).toEqual([kvt('V0', 0, 10), kvt('V1', 1, 9), kvt('V2', 2, 8), kvt('V3', 3, 7)]);
  });
});

describe('KStreamMapValuesTest', () => {
  const expectedKeys = [1, 10, 100, 1000];

  it('testFlatMapValues', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<number, number>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.string() })
      .mapValues((value) => value.length)
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.string());
      for (const expectedKey of expectedKeys) await inputTopic.pipeInput(expectedKey, String(expectedKey), Math.floor(expectedKey / 2));
    });
    expect(supplier.processed).toEqual([kvt(1, 1, 0), kvt(10, 2, 5), kvt(100, 3, 50), kvt(1000, 4, 500)]);
  });

  it('testMapValuesWithKeys', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<number, number>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.string() })
      .mapValues((value, readOnlyKey) => value.length + readOnlyKey)
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.string());
      for (const expectedKey of expectedKeys) await inputTopic.pipeInput(expectedKey, String(expectedKey), Math.floor(expectedKey / 2));
    });
    expect(supplier.processed).toEqual([kvt(1, 2, 0), kvt(10, 12, 5), kvt(100, 103, 50), kvt(1000, 1004, 500)]);
  });
});

describe('KStreamSelectKeyTest', () => {
  it('testSelectKey', async () => {
    const keyMap = new Map([
      [1, 'ONE'],
      [2, 'TWO'],
      [3, 'THREE'],
    ]);
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, number>();
    // DIFFERENCE: Kafka's String serde reads the null key of pipeInput(value); ours needs Serdes.nullable.
    builder
      .stream('topic', { key: Serdes.nullable(Serdes.string()), value: Serdes.int32() })
      .selectKey((_key, value) => keyMap.get(value)!)
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.nullable(Serdes.string()), Serdes.int32());
      for (const expectedValue of [1, 2, 3]) await inputTopic.pipeInput(null, expectedValue, 0);
    });
    expect(supplier.processed).toEqual([kvt('ONE', 1, 0), kvt('TWO', 2, 0), kvt('THREE', 3, 0)]);
  });
});
