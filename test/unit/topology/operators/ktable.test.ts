import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import type { Serde } from '../../../../topology/serdes/serde.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

// Mirrors Kafka Streams' KTableSourceTest, KTableFilterTest and KTableMapValuesTest (record cache
// off, no old values): outputs as [key, value, timestamp], null for a tombstone.
const str = Serdes.string();
const int = Serdes.int32();
const nullableInt = Serdes.nullable(int);
const nullableStr = Serdes.nullable(str);

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

type Row<V> = [string, V | null, number];

function rows<V>(d: TopologyTestDriver, topic: string, serde: Serde<V | null>): Row<V>[] {
  return d.createOutputTopic(topic, str, serde).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
}

describe('KTableSourceTest', () => {
  it('testKTable: every update is forwarded with its timestamp; a tombstone deletes the key', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table('topic1', { key: str, value: int });
    table.toStream().to('out');
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic1', str, nullableInt);
    await input.pipeInput('A', 1, 10);
    await input.pipeInput('B', 2, 11);
    await input.pipeInput('C', 3, 12);
    await input.pipeInput('D', 4, 13);
    await input.pipeInput('A', null, 14);
    await input.pipeInput('B', null, 15);
    expect(rows<number>(driver, 'out', nullableInt)).toEqual([
      ['A', 1, 10],
      ['B', 2, 11],
      ['C', 3, 12],
      ['D', 4, 13],
      ['A', null, 14],
      ['B', null, 15],
    ]);
    const store = await driver.getKeyValueStore<number>(table.queryableStoreName!);
    expect(table.queryableStoreName).toBe('topic1-STATE-STORE-0000000000');
    expect([await store.get('A'), await store.get('B'), await store.get('C'), await store.get('D')]).toEqual([undefined, undefined, 3, 4]);
  });

  it('kTableShouldLogAndMeterOnSkippedRecords: a record with a null key is skipped', async () => {
    const builder = new StreamsBuilder();
    builder.table('topic1', { key: str, value: str }).toStream().to('out');
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('topic1', nullableStr, str).pipeInput(null, 'value', 0);
    expect(rows<string>(driver, 'out', nullableStr)).toEqual([]);
    expect(driver.createOutputTopic('topic1-dlq', str, str).isEmpty()).toBe(true);
  });

  it('names its store, source and table source as Kafka Streams does', () => {
    const generated = new StreamsBuilder();
    generated.table('topic1', { key: str, value: str });
    expect(generated.build().describe().toString()).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: KSTREAM-SOURCE-0000000001 (topics: [topic1])\n' +
        '      --> KTABLE-SOURCE-0000000002\n' +
        '    Processor: KTABLE-SOURCE-0000000002 (stores: [topic1-STATE-STORE-0000000000])\n' +
        '      --> none\n' +
        '      <-- KSTREAM-SOURCE-0000000001\n\n',
    );
    const named = new StreamsBuilder();
    named.table('topic1', { key: str, value: str, name: 'users', materialized: { name: 'users-store' } });
    const nodes = named.build().subTopologies[0].nodes;
    expect(nodes.map((n) => n.name)).toEqual(['users-source', 'users']);
    expect(named.build().subTopologies[0].stores.map((s) => s.name)).toEqual(['users-store']);
  });
});

describe('KTableFilterTest', () => {
  it('shouldPassThroughWithoutMaterialization: filter and filterNot emit a tombstone for each key filtered out', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table('topic1', { key: str, value: int });
    const table2 = table1.filter((_k, v) => v % 2 === 0);
    const table3 = table1.filterNot((_k, v) => v % 2 === 0);
    table2.toStream().to('even');
    table3.toStream().to('odd');
    expect(table2.queryableStoreName).toBeUndefined();
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic1', str, nullableInt);
    await input.pipeInput('A', 1, 10);
    await input.pipeInput('B', 2, 5);
    await input.pipeInput('C', 3, 8);
    await input.pipeInput('D', 4, 14);
    await input.pipeInput('A', null, 18);
    await input.pipeInput('B', null, 15);
    expect(rows<number>(driver, 'even', nullableInt)).toEqual([
      ['A', null, 10],
      ['B', 2, 5],
      ['C', null, 8],
      ['D', 4, 14],
      ['A', null, 18],
      ['B', null, 15],
    ]);
    expect(rows<number>(driver, 'odd', nullableInt)).toEqual([
      ['A', 1, 10],
      ['B', null, 5],
      ['C', 3, 8],
      ['D', null, 14],
      ['A', null, 18],
      ['B', null, 15],
    ]);
  });

  it('a key that stops passing is deleted downstream; generated name KTABLE-FILTER', async () => {
    const builder = new StreamsBuilder();
    builder
      .table('topic1', { key: str, value: int })
      .filter((_k, v) => v > 10)
      .toStream()
      .to('big');
    const topology = builder.build();
    expect(topology.subTopologies[0].nodes.map((n) => n.name)).toEqual([
      'KSTREAM-SOURCE-0000000001',
      'KTABLE-SOURCE-0000000002',
      'KTABLE-FILTER-0000000003',
      'KTABLE-TOSTREAM-0000000004',
      'KSTREAM-SINK-0000000005',
    ]);
    driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('topic1', str, int);
    await input.pipeInput('A', 20, 1);
    await input.pipeInput('A', 5, 2);
    expect(rows<number>(driver, 'big', nullableInt)).toEqual([
      ['A', 20, 1],
      ['A', null, 2],
    ]);
  });

  it('shouldGetValuesOnMaterialization: a join reads the filtered table through its parent store', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table('topic1', { key: str, value: int }).filter((_k, v) => v % 2 === 0);
    builder
      .stream('lookups', { key: str, value: str })
      .leftJoin(table, (v, tv) => `${v}:${tv}`)
      .to('out', { value: str });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic1', str, int);
    await input.pipeInput('A', 1, 1);
    await input.pipeInput('B', 2, 1);
    const lookups = driver.createInputTopic('lookups', str, str);
    await lookups.pipeInput('A', 'a', 3);
    await lookups.pipeInput('B', 'b', 4);
    await lookups.pipeInput('C', 'c', 5);
    expect(rows<string>(driver, 'out', nullableStr)).toEqual([
      ['A', 'a:null', 3],
      ['B', 'b:2', 4],
      ['C', 'c:null', 5],
    ]);
  });
});

describe('KTableMapValuesTest', () => {
  it('testKTable: maps each value, keeps key and timestamp; tombstones skip the mapper', async () => {
    const builder = new StreamsBuilder();
    const seen: string[] = [];
    builder
      .table('topic1', { key: str, value: str })
      .mapValues((v, k) => {
        seen.push(k);
        return Number(v);
      })
      .toStream()
      .to('out', { value: nullableInt });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic1', str, nullableStr);
    await input.pipeInput('A', '1', 5);
    await input.pipeInput('B', '2', 25);
    await input.pipeInput('C', '3', 20);
    await input.pipeInput('D', '4', 10);
    await input.pipeInput('A', null, 30);
    expect(rows<number>(driver, 'out', nullableInt)).toEqual([
      ['A', 1, 5],
      ['B', 2, 25],
      ['C', 3, 20],
      ['D', 4, 10],
      ['A', null, 30],
    ]);
    expect(seen).toEqual(['A', 'B', 'C', 'D']);
  });

  it('a join sees the mapped value of a mapped table', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table('topic1', { key: str, value: str }).mapValues((v) => v.toUpperCase());
    builder
      .stream('lookups', { key: str, value: str })
      .join(table, (v, tv) => `${v}+${tv}`)
      .to('out', { value: str });
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('topic1', str, str).pipeInput('A', 'x', 1);
    await driver.createInputTopic('lookups', str, str).pipeInput('A', 'a', 2);
    expect(rows<string>(driver, 'out', nullableStr)).toEqual([['A', 'a+X', 2]]);
  });
});
