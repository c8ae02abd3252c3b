import { describe, expect, it } from 'vitest';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { MockProcessorSupplier, withDriver } from './support.js';

/** Mirrors Kafka Streams' KStreamFilterTest. */
describe('KStreamFilterTest', () => {
  const topicName = 'topic';
  const isMultipleOfThree = (key: number): boolean => key % 3 === 0;
  const expectedKeys = [1, 2, 3, 4, 5, 6, 7];

  for (const [name, keep, count] of [['testFilter', true, 2], ['testFilterNot', false, 5]] as const) {
    it(name, async () => {
      const builder = new StreamsBuilder();
      const supplier = new MockProcessorSupplier<number, string>();
      const stream = builder.stream(topicName, { key: Serdes.int32(), value: Serdes.string() });
      (keep ? stream.filter(isMultipleOfThree) : stream.filterNot(isMultipleOfThree)).process(supplier.supplier);
      await withDriver(builder, async (driver) => {
        const inputTopic = driver.createInputTopic(topicName, Serdes.int32(), Serdes.string());
        for (const expectedKey of expectedKeys) await inputTopic.pipeInput(expectedKey, `V${expectedKey}`);
      });
      expect(supplier.processed).toHaveLength(count);
    });
  }
});
