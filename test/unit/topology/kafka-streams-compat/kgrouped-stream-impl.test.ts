import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import type { KGroupedStream } from '../../../../topology/kgrouped-stream.js';
import type { Serde } from '../../../../topology/serdes/serde.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { captureLogs, kvt, MockProcessorSupplier } from './support.js';

/** Mirrors Kafka Streams' KGroupedStreamImplTest (non-windowed cases). */

const TOPIC = 'topic';
// DIFFERENCE: Kafka's built-in serdes map null to null; ours throw SerdeError, so a topic with
// tombstones is read with Serdes.nullable (serdes.test.ts).
const nullableString = Serdes.nullable(Serdes.string());
const stringAdder = (a: string | null, b: string | null): string => `${a}+${b}`;

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function setUp(logger?: ReturnType<typeof captureLogs>['logger']) {
  const builder = new StreamsBuilder();
  const groupedStream: KGroupedStream<string, string | null> = builder
    .stream<string, string | null>(TOPIC, { key: Serdes.string(), value: nullableString })
    .groupByKey({ key: Serdes.string(), value: nullableString });
  const start = () => {
    driver = new TopologyTestDriver(builder.build(), { logger });
    return driver;
  };
  return { builder, groupedStream, start };
}

/** KGroupedStreamImplTest.processData: the null value at offset 6 is skipped. */
async function processData(d: TopologyTestDriver): Promise<void> {
  const inputTopic = d.createInputTopic(TOPIC, Serdes.string(), nullableString);
  await inputTopic.pipeInput('1', 'A', 5);
  await inputTopic.pipeInput('2', 'B', 1);
  await inputTopic.pipeInput('1', 'C', 3);
  await inputTopic.pipeInput('1', 'D', 10);
  await inputTopic.pipeInput('3', 'E', 8);
  await inputTopic.pipeInput('3', 'F', 9);
  await inputTopic.pipeInput('3', null);
}

/** The store's values for keys 1, 2, 3, and its timestamps: 10, 1 and 9 (the max per key). */
async function expectMaterialized<V>(d: TopologyTestDriver, store: string, values: readonly [V, V, V]): Promise<void> {
  const plain = await d.getKeyValueStore<V>(store);
  const timestamped = await d.getTimestampedKeyValueStore<V>(store);
  for (const [i, timestamp] of [10, 1, 9].entries()) {
    expect(await plain.get(String(i + 1))).toEqual(values[i]);
    expect(await timestamped.get(String(i + 1))).toEqual({ value: values[i], timestamp });
  }
}

/** Kafka Streams: "Skipping record due to null key or value. topic=[topic] partition=[0] offset=[6]", dropped-records-total 1. */
function expectSkipLogged(logs: ReturnType<typeof captureLogs>, d: TopologyTestDriver): void {
  expect(logs.lines()).toContainEqual(
    expect.objectContaining({ msg: 'skipped a record', reason: 'null key or value', topic: TOPIC, partition: 0, offset: 6 }),
  );
  expect(d.droppedRecordsTotal()).toBe(1);
}

describe('KGroupedStreamImplTest', () => {
  it('shouldCountAndMaterializeResults', async () => {
    const { groupedStream, start } = setUp();
    groupedStream.count({ name: 'count' });
    const d = start();
    await processData(d);
    await expectMaterialized(d, 'count', [3, 1, 2] as const);
  });

  it('shouldLogAndMeasureSkipsInAggregate', async () => {
    const logs = captureLogs();
    const { groupedStream, start } = setUp(logs.logger);
    groupedStream.count({ name: 'count' });
    const d = start();
    await processData(d);
    expectSkipLogged(logs, d);
  });

  it('shouldReduceAndMaterializeResults', async () => {
    const { groupedStream, start } = setUp();
    groupedStream.reduce(stringAdder, { name: 'reduce', valueSerde: nullableString });
    const d = start();
    await processData(d);
    await expectMaterialized(d, 'reduce', ['A+C+D', 'B', 'E+F'] as const);
  });

  it('shouldLogAndMeasureSkipsInReduce', async () => {
    const logs = captureLogs();
    const { groupedStream, start } = setUp(logs.logger);
    groupedStream.reduce(stringAdder, { name: 'reduce', valueSerde: nullableString });
    const d = start();
    await processData(d);
    expectSkipLogged(logs, d);
  });

  it('shouldAggregateAndMaterializeResults', async () => {
    const { groupedStream, start } = setUp();
    groupedStream.aggregate(() => '0', (_k, v, agg) => `${agg}+${v}`, { name: 'aggregate', valueSerde: Serdes.string() });
    const d = start();
    await processData(d);
    await expectMaterialized(d, 'aggregate', ['0+A+C+D', '0+B', '0+E+F'] as const);
  });

  it('shouldAggregateWithDefaultSerdes', async () => {
    const { groupedStream, start } = setUp();
    const supplier = new MockProcessorSupplier<string, string>();
    groupedStream
      .aggregate(() => '0', (_k, v, agg) => `${agg}+${v}`)
      .toStream()
      .process(supplier.supplier);
    const d = start();
    await processData(d);
    const last = supplier.lastValueAndTimestampPerKey();
    expect(last.get('1')).toEqual({ value: '0+A+C+D', timestamp: 10 });
    expect(last.get('2')).toEqual({ value: '0+B', timestamp: 1 });
    expect(last.get('3')).toEqual({ value: '0+E+F', timestamp: 9 });
    // Every update, out-of-order input included: an update never moves back in time.
    expect(supplier.processed.filter((r) => r.key === '1')).toEqual([kvt('1', '0+A', 5), kvt('1', '0+A+C', 5), kvt('1', '0+A+C+D', 10)]);
  });

  // Kafka Streams' KStreamAggregate and KStreamReduce skip a null key the same way (a groupBy whose
  // selector returns null: kstream-impl.test.ts).
  it('shouldLogAndMeasureSkipsInAggregate (null key, groupByKey on a nullable key)', async () => {
    const builder = new StreamsBuilder();
    // Grouped keys are typed string (store keys): a null key can only come from a nullable key serde.
    builder
      .stream<string, string>(TOPIC, { key: Serdes.nullable(Serdes.string()) as Serde<string>, value: Serdes.string() })
      .groupByKey()
      .count({ name: 'count' });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic(TOPIC, Serdes.nullable(Serdes.string()), Serdes.string());
    await input.pipeInput(null, 'A', 1);
    await input.pipeInput('1', 'B', 2);
    expect(driver.droppedRecordsTotal()).toBe(1);
    const count = await driver.getKeyValueStore<number>('count');
    expect(await count.get('1')).toBe(1);
    expect(await count.approximateCount()).toBe(1);
  });
});

describe('KGroupedStreamImplTest: the aggregation as a table', () => {
  let d: TopologyTestDriver | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  // The store keeps ValueAndTimestamp (as Kafka's TimestampedKeyValueStore); a stream-table join
  // reads the plain aggregate, as Kafka's value getter does.
  it('shouldAggregateAndMaterializeResults (joined by a stream)', async () => {
    const builder = new StreamsBuilder();
    const counts = builder.stream('counted', { key: Serdes.string(), value: Serdes.string() }).groupByKey().count({ name: 'count' });
    const supplier = new MockProcessorSupplier<string, string>();
    builder
      .stream('lookups', { key: Serdes.string(), value: Serdes.string() })
      .join(counts, (value: string, count: number) => `${value}=${count}`)
      .process(supplier.supplier);
    d = new TopologyTestDriver(builder.build());
    await d.createInputTopic('counted', Serdes.string(), Serdes.string()).pipeKeyValueList([
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
    ]);
    await d.createInputTopic('lookups', Serdes.string(), Serdes.string()).pipeInput('a', 'a', 7);
    expect(supplier.processed).toEqual([kvt('a', 'a=2', 7)]);
  });
});
