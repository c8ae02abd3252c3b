import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

// Mirrors Kafka Streams' KStreamImplTest.shouldSendDataToDynamicTopics.
const str = Serdes.string();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('KStream.to(TopicNameExtractor)', () => {
  it('shouldSendDataToDynamicTopics: the extractor sees key, value and the record context', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('topic', { key: str, value: str })
      .to(function byKey(key, value, context) {
        return `${context.topic}-${key}-${value.slice(0, 1)}`;
      });
    const topology = builder.build();
    expect(topology.describe().toString()).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n' +
        '      --> KSTREAM-SINK-0000000001\n' +
        '    Sink: KSTREAM-SINK-0000000001 (extractor class: byKey)\n' +
        '      <-- KSTREAM-SOURCE-0000000000\n\n',
    );
    expect(topology.topics('app').sinkTopics).toEqual([]);
    driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('topic', str, str);
    await input.pipeInput('a', 'v1', 1);
    await input.pipeInput('a', 'v2', 2);
    await input.pipeInput('b', 'v1', 3);
    expect(driver.createOutputTopic('topic-a-v', str, str).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', 'v1', 1],
      ['a', 'v2', 2],
    ]);
    expect(driver.createOutputTopic('topic-b-v', str, str).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['b', 'v1', 3]]);
  });

  it('passes partition, offset, timestamp and headers in the record context; serdes from the options', async () => {
    const builder = new StreamsBuilder();
    const contexts: unknown[] = [];
    builder
      .stream('topic', { key: str, value: str })
      .mapValues((v) => v.length)
      .to(
        (_k, _v, context) => {
          contexts.push({ ...context, headers: Object.keys(context.headers) });
          return 'lengths';
        },
        { value: Serdes.int32(), name: 'dynamic' },
      );
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('topic', str, str).pipeInput('k', 'abc', 9, { h: Buffer.from('x') });
    expect(contexts).toEqual([{ topic: 'topic', partition: 0, offset: 0, timestamp: 9, headers: ['h'] }]);
    expect(driver.createOutputTopic('lengths', str, Serdes.int32()).readKeyValuesToList()).toEqual([{ key: 'k', value: 3 }]);
  });

  it('fails the record when the extractor returns an invalid topic name', async () => {
    const builder = new StreamsBuilder();
    builder.stream('topic', { key: str, value: str }).to(() => 'no spaces allowed', { name: 'bad' });
    driver = new TopologyTestDriver(builder.build());
    await expect(driver.createInputTopic('topic', str, str).pipeInput('k', 'v')).rejects.toThrow(
      'Sink "bad": its topic name extractor returned an invalid topic name "no spaces allowed"',
    );
  });
});
