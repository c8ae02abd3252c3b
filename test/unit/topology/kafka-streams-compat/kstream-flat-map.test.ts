import { describe, expect, it } from 'vitest';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { kvt, MockProcessorSupplier, withDriver } from './support.js';

/** Mirrors Kafka Streams' KStreamFlatMapTest and KStreamFlatMapValuesTest. */
describe('KStreamFlatMapTest', () => {
  it('testFlatMap', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, string>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.string() })
      .flatMap((key, value) => Array.from({ length: key }, (_, i) => ({ key: String(key * 10 + i), value })))
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.string());
      for (const expectedKey of [0, 1, 2, 3]) await inputTopic.pipeInput(expectedKey, `V${expectedKey}`, 0);
    });
    expect(supplier.processed).toEqual([
      kvt('10', 'V1', 0),
      kvt('20', 'V2', 0),
      kvt('21', 'V2', 0),
      kvt('30', 'V3', 0),
      kvt('31', 'V3', 0),
      kvt('32', 'V3', 0),
    ]);
  });
});

describe('KStreamFlatMapValuesTest', () => {
  it('testFlatMapValues', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<number, string>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.int32() })
      .flatMapValues((value) => [`v${value}`, `V${value}`])
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.int32());
      for (const expectedKey of [0, 1, 2, 3]) await inputTopic.pipeInput(expectedKey, expectedKey, 0);
    });
    expect(supplier.processed).toEqual([0, 1, 2, 3].flatMap((k) => [kvt(k, `v${k}`, 0), kvt(k, `V${k}`, 0)]));
  });

  it('testFlatMapValuesWithKeys', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<number, string>();
    builder
      .stream('topic', { key: Serdes.int32(), value: Serdes.int32() })
      .flatMapValues((value, readOnlyKey) => [`v${value}`, `k${readOnlyKey}`])
      .process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), Serdes.int32());
      for (const expectedKey of [0, 1, 2, 3]) await inputTopic.pipeInput(expectedKey, expectedKey, 0);
    });
    expect(supplier.processed).toEqual([0, 1, 2, 3].flatMap((k) => [kvt(k, `v${k}`, 0), kvt(k, `k${k}`, 0)]));
  });
});
