import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

// Mirrors Kafka Streams' KStreamRepartitionIntegrationTest and KStreamImplTest's repartition cases
// on the TopologyTestDriver.
const str = Serdes.string();
const int = Serdes.int32();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('KStream.repartition (KStreamRepartitionTest)', () => {
  it('shouldGenerateRepartitionTopicWhenNameIsNotSpecified', async () => {
    const builder = new StreamsBuilder();
    builder.stream('input', { key: str, value: int }).repartition().to('output');
    const topology = builder.build();
    expect(topology.describe().toString()).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n' +
        '      --> KSTREAM-FILTER-0000000003\n' +
        '    Processor: KSTREAM-FILTER-0000000003 (stores: [])\n' +
        '      --> KSTREAM-SINK-0000000002\n' +
        '      <-- KSTREAM-SOURCE-0000000000\n' +
        '    Sink: KSTREAM-SINK-0000000002 (topic: KSTREAM-REPARTITION-0000000001-repartition)\n' +
        '      <-- KSTREAM-FILTER-0000000003\n\n' +
        '  Sub-topology: 1\n' +
        '    Source: KSTREAM-SOURCE-0000000004 (topics: [KSTREAM-REPARTITION-0000000001-repartition])\n' +
        '      --> KSTREAM-SINK-0000000005\n' +
        '    Sink: KSTREAM-SINK-0000000005 (topic: output)\n' +
        '      <-- KSTREAM-SOURCE-0000000004\n\n',
    );
    expect(topology.topics('app').repartitionTopics).toEqual(['app-KSTREAM-REPARTITION-0000000001-repartition']);
  });

  it('shouldCreateRepartitionTopicIfKeyChangingOperationWasNotPerformed: records go to the partition of their key', async () => {
    const builder = new StreamsBuilder();
    builder.stream('input', { key: str, value: int }).repartition({ name: 'by-key' }).to('output');
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => s.nodes.map((n) => n.name))).toEqual([
      ['KSTREAM-SOURCE-0000000000', 'by-key-repartition-filter', 'by-key-repartition-sink'],
      ['by-key-repartition-source', 'KSTREAM-SINK-0000000004'],
    ]);
    driver = new TopologyTestDriver(topology, { applicationId: 'app', partitions: 3 });
    await driver.createInputTopic('input', str, int).pipeKeyValueList(
      [
        { key: 'c1', value: 1 },
        { key: 'c2', value: 2 },
      ],
      100,
      10,
    );
    const through = driver.createOutputTopic('app-by-key-repartition', str, int).readRecordsToList();
    expect(through.map((r) => [r.key, r.value, r.timestamp, r.partition])).toEqual([
      ['c1', 1, 100, 2],
      ['c2', 2, 110, 1],
    ]);
    expect(driver.createOutputTopic('output', str, int).readRecordsToList().map((r) => [r.key, r.value, r.timestamp, r.partition])).toEqual([
      ['c1', 1, 100, 2],
      ['c2', 2, 110, 1],
    ]);
  });

  it('shouldPerformKeySelectOperationWhenRepartitionOperationIsUsedWithKeySelector: serdes from the options', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('input', { key: str, value: int })
      .selectKey((_k, v) => v)
      .repartition({ key: int, name: 'by-value' })
      .mapValues((v) => `v${v}`)
      .to('output', { value: str });
    driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' });
    await driver.createInputTopic('input', str, int).pipeInput('a', 7, 3);
    expect(driver.createOutputTopic('output', int, str).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([[7, 'v7', 3]]);
  });

  it('shouldCreateRepartitionTopicWithSpecifiedNumberOfPartitions', () => {
    const builder = new StreamsBuilder();
    builder.stream('input', { key: str, value: int }).repartition({ name: 'r', numberOfPartitions: 6 }).to('output');
    const topology = builder.build();
    expect(topology.topics('app').repartitionTopics).toEqual(['app-r-repartition']);
    expect(topology.repartitionPartitions('app')).toEqual(new Map([['app-r-repartition', 6]]));
  });

  it('drops records with a null key before the repartition topic', async () => {
    const builder = new StreamsBuilder();
    const nullableStr = Serdes.nullable(str);
    builder.stream('input', { key: nullableStr, value: int }).repartition({ name: 'r' }).to('output');
    driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' });
    const input = driver.createInputTopic('input', nullableStr, int);
    await input.pipeInput(null, 1, 1);
    await input.pipeInput('k', 2, 2);
    expect(driver.createOutputTopic('output', nullableStr, int).readKeyValuesToList()).toEqual([{ key: 'k', value: 2 }]);
  });

  it('a repartitioned stream joins a table without a second repartition', () => {
    const builder = new StreamsBuilder();
    const table = builder.table('table', { key: str, value: str });
    builder
      .stream('input', { key: str, value: str })
      .selectKey((_k, v) => v)
      .repartition({ name: 'r', key: str })
      .join(table, (v, tv) => `${v}+${tv}`)
      .to('output', { value: str });
    expect(builder.build().topics('app').repartitionTopics).toEqual(['app-r-repartition']);
  });

  it('rejects a numberOfPartitions that is not a positive integer', () => {
    const stream = new StreamsBuilder().stream('input', { key: str, value: int });
    expect(() => stream.repartition({ numberOfPartitions: 0 })).toThrow('repartition() needs a positive integer numberOfPartitions, got 0');
    expect(() => stream.repartition({ numberOfPartitions: 1.5 })).toThrow('got 1.5');
  });
});
