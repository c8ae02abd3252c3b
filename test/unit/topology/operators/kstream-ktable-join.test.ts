import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import type { TestInputTopic } from '../../../../runtime/test-topics.js';

// Mirrors Kafka Streams' KStreamKTableJoinTest and KStreamKTableLeftJoinTest: keys 0..3, the
// TOSTRING joiner (`value1+value2`), stream record i piped at timestamp i.
const str = Serdes.string();
const nullableStr = Serdes.nullable(str);
const keys = ['0', '1', '2', '3'];

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function setUp(left: boolean) {
  const builder = new StreamsBuilder();
  const stream = builder.stream('streamTopic', { key: str, value: nullableStr });
  const table = builder.table('tableTopic', { key: str, value: str });
  const joined = left
    ? stream.leftJoin(table, (v, tv) => `${v}+${tv}`)
    : stream.join(table, (v, tv) => `${v}+${tv}`);
  joined.to('output', { value: str });
  driver = new TopologyTestDriver(builder.build());
  const d = driver;
  const streamIn = d.createInputTopic('streamTopic', str, nullableStr);
  const tableIn = d.createInputTopic('tableTopic', str, nullableStr);
  const output = d.createOutputTopic('output', str, str);
  const pushToStream = async (count: number, prefix: string): Promise<void> => {
    for (let i = 0; i < count; i++) await streamIn.pipeInput(keys[i], `${prefix}${keys[i]}`, i);
  };
  const pushToTable = async (count: number, prefix: string): Promise<void> => {
    for (let i = 0; i < count; i++) await tableIn.pipeInput(keys[i], `${prefix}${keys[i]}`, i);
  };
  const pushNullValueToTable = async (input: TestInputTopic<string, string | null>): Promise<void> => {
    for (let i = 0; i < 2; i++) await input.pipeInput(keys[i], null);
  };
  const read = (): [string, string, number][] => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  return { d, streamIn, tableIn, pushToStream, pushToTable, pushNullValueToTable: () => pushNullValueToTable(tableIn), read };
}

describe('KStream-KTable join (KStreamKTableJoinTest)', () => {
  it('shouldJoinOnlyIfMatchFoundOnStreamUpdates', async () => {
    const t = setUp(false);
    await t.pushToStream(2, 'X');
    expect(t.read()).toEqual([]);
    await t.pushToTable(2, 'Y');
    expect(t.read()).toEqual([]);
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+Y0', 0],
      ['1', 'X1+Y1', 1],
    ]);
  });

  it('shouldNotJoinWithEmptyTableOnStreamUpdates', async () => {
    const t = setUp(false);
    await t.pushToStream(2, 'X');
    expect(t.read()).toEqual([]);
  });

  it('shouldNotJoinOnTableUpdates', async () => {
    const t = setUp(false);
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([]);
    await t.pushToTable(2, 'Y');
    expect(t.read()).toEqual([]);
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+Y0', 0],
      ['1', 'X1+Y1', 1],
    ]);
    await t.pushToTable(4, 'YY');
    expect(t.read()).toEqual([]);
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+YY0', 0],
      ['1', 'X1+YY1', 1],
      ['2', 'X2+YY2', 2],
      ['3', 'X3+YY3', 3],
    ]);
  });

  it('shouldClearTableEntryOnNullValueUpdates', async () => {
    const t = setUp(false);
    await t.pushToTable(4, 'Y');
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+Y0', 0],
      ['1', 'X1+Y1', 1],
      ['2', 'X2+Y2', 2],
      ['3', 'X3+Y3', 3],
    ]);
    await t.pushNullValueToTable();
    await t.pushToStream(4, 'XX');
    expect(t.read()).toEqual([
      ['2', 'XX2+Y2', 2],
      ['3', 'XX3+Y3', 3],
    ]);
  });

  it('shouldDropNullValueRecords (stream records with a null value never join)', async () => {
    const t = setUp(false);
    await t.pushToTable(1, 'Y');
    await t.streamIn.pipeInput('0', null, 5);
    expect(t.read()).toEqual([]);
  });

  it('keeps the stream record headers and timestamp', async () => {
    const t = setUp(false);
    await t.tableIn.pipeInput('0', 'Y0', 100);
    await t.streamIn.pipeInput('0', 'X0', 7, { h: Buffer.from('v') });
    const [record] = t.d.createOutputTopic('output', str, str).readRecordsToList();
    expect([record.key, record.value, record.timestamp, record.headers.h.toString()]).toEqual(['0', 'X0+Y0', 7, 'v']);
  });
});

describe('KStream-KTable left join (KStreamKTableLeftJoinTest)', () => {
  it('shouldJoinWithEmptyTableOnStreamUpdates', async () => {
    const t = setUp(true);
    await t.pushToStream(2, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+null', 0],
      ['1', 'X1+null', 1],
    ]);
  });

  it('shouldJoinRegardlessIfMatchFoundOnStreamUpdates', async () => {
    const t = setUp(true);
    await t.pushToTable(2, 'Y');
    expect(t.read()).toEqual([]);
    await t.pushToStream(4, 'X');
    expect(t.read()).toEqual([
      ['0', 'X0+Y0', 0],
      ['1', 'X1+Y1', 1],
      ['2', 'X2+null', 2],
      ['3', 'X3+null', 3],
    ]);
  });

  it('shouldClearTableEntryOnNullValueUpdates', async () => {
    const t = setUp(true);
    await t.pushToTable(4, 'Y');
    await t.pushNullValueToTable();
    await t.pushToStream(4, 'XX');
    expect(t.read()).toEqual([
      ['0', 'XX0+null', 0],
      ['1', 'XX1+null', 1],
      ['2', 'XX2+Y2', 2],
      ['3', 'XX3+Y3', 3],
    ]);
  });
});

describe('KStream-KTable join: null keys', () => {
  it('DIFFERENCE: leftJoin drops a stream record with a null key, as Kafka Streams before 3.7 (KIP-962 joins it with null since)', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table('tableTopic', { key: str, value: str });
    builder
      .stream('streamTopic', { key: Serdes.nullable(str), value: str })
      .leftJoin(table, (v, tv) => `${v}+${tv}`)
      .to('output', { key: Serdes.nullable(str), value: str });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('streamTopic', Serdes.nullable(str), str);
    await input.pipeInput(null, 'X', 1);
    await input.pipeInput('0', 'Y', 2);
    expect(driver.createOutputTopic('output', Serdes.nullable(str), str).readKeyValuesToList()).toEqual([{ key: '0', value: 'Y+null' }]);
  });
});

describe('KStream-KTable join: topology', () => {
  it('puts the stream source, the table source and the join in one sub-topology (co-partitioned), with generated names', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('streamTopic', { key: str, value: str });
    const table = builder.table('tableTopic', { key: str, value: str });
    stream.join(table, (v, tv) => `${v}+${tv}`).to('output', { value: str });
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => [s.id, s.sourceTopics, s.stores.map((st) => st.name)])).toEqual([
      [0, ['streamTopic', 'tableTopic'], ['tableTopic-STATE-STORE-0000000001']],
    ]);
    expect(topology.describe().toString()).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [streamTopic])\n' +
        '      --> KSTREAM-JOIN-0000000004\n' +
        '    Processor: KSTREAM-JOIN-0000000004 (stores: [tableTopic-STATE-STORE-0000000001])\n' +
        '      --> KSTREAM-SINK-0000000005\n' +
        '      <-- KSTREAM-SOURCE-0000000000\n' +
        '    Source: KSTREAM-SOURCE-0000000002 (topics: [tableTopic])\n' +
        '      --> KTABLE-SOURCE-0000000003\n' +
        '    Sink: KSTREAM-SINK-0000000005 (topic: output)\n' +
        '      <-- KSTREAM-JOIN-0000000004\n' +
        '    Processor: KTABLE-SOURCE-0000000003 (stores: [tableTopic-STATE-STORE-0000000001])\n' +
        '      --> none\n' +
        '      <-- KSTREAM-SOURCE-0000000002\n\n',
    );
  });

  it('repartitions a re-keyed stream before the join, through a topic named after the key-changing node', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table('tableTopic', { key: str, value: str });
    builder
      .stream('streamTopic', { key: str, value: str })
      .selectKey((_k, v) => v.slice(0, 1))
      .join(table, (v, tv) => `${v}+${tv}`, { key: str })
      .to('output', { value: str });
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => [s.id, s.sourceTopics, s.sinkTopics])).toEqual([
      [0, ['tableTopic', 'KSTREAM-KEY-SELECT-0000000004-repartition'], ['output']],
      [1, ['streamTopic'], ['KSTREAM-KEY-SELECT-0000000004-repartition']],
    ]);
    driver = new TopologyTestDriver(topology, { applicationId: 'app', partitions: 2 });
    await driver.createInputTopic('tableTopic', str, str).pipeInput('a', 'A', 1);
    await driver.createInputTopic('streamTopic', str, str).pipeInput('k', 'a1', 5);
    expect(driver.createOutputTopic('output', str, str).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', 'a1+A', 5],
    ]);
  });

  it('rejects a table of another builder', () => {
    const table = new StreamsBuilder().table('t', { key: str, value: str });
    const stream = new StreamsBuilder().stream('s', { key: str, value: str });
    expect(() => stream.join(table, (v) => v)).toThrow('Cannot join a stream and a table of two different StreamsBuilders');
  });
});
