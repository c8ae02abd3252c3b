import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { kvt, MockProcessorSupplier, withDriver } from './support.js';

/**
 * Mirrors Kafka Streams' KStreamImplTest (merge, to, groupBy), KStreamPeekTest and
 * KStreamSplitTest. Kafka's null-argument checks (shouldNotAllowNull...) have no counterpart: the
 * types rule those calls out.
 */

const str = Serdes.string();
const stringConsumed = { key: str, value: str };

describe('KStreamImplTest', () => {
  it('shouldSendDataToTopicUsingProduced', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, string>();
    builder.stream('topic', stringConsumed).to('to-topic', { key: str, value: str });
    builder.stream('to-topic', stringConsumed).process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      await driver.createInputTopic('topic', str, str).pipeInput('e', 'f', 0);
    });
    expect(supplier.processed).toEqual([kvt('e', 'f', 0)]);
  });

  it('shouldMergeTwoStreams', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, string>();
    builder.stream('topic-1', stringConsumed).merge(builder.stream('topic-2', stringConsumed)).process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const inputTopic1 = driver.createInputTopic('topic-1', str, str);
      const inputTopic2 = driver.createInputTopic('topic-2', str, str);
      await inputTopic1.pipeInput('A', 'aa', 0);
      await inputTopic2.pipeInput('B', 'bb', 0);
      await inputTopic2.pipeInput('C', 'cc', 0);
      await inputTopic1.pipeInput('D', 'dd', 0);
    });
    expect(supplier.processed).toEqual([kvt('A', 'aa', 0), kvt('B', 'bb', 0), kvt('C', 'cc', 0), kvt('D', 'dd', 0)]);
  });

  it('shouldMergeMultipleStreams', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, string>();
    const [s1, s2, s3, s4] = [1, 2, 3, 4].map((i) => builder.stream(`topic-${i}`, stringConsumed));
    s1.merge(s2).merge(s3).merge(s4).process(supplier.supplier);
    await withDriver(builder, async (driver) => {
      const input = (i: number) => driver.createInputTopic(`topic-${i}`, str, str);
      await input(1).pipeInput('A', 'aa', 1);
      await input(2).pipeInput('B', 'bb', 9);
      await input(3).pipeInput('C', 'cc', 2);
      await input(4).pipeInput('D', 'dd', 8);
      await input(4).pipeInput('E', 'ee', 3);
      await input(3).pipeInput('F', 'ff', 7);
      await input(2).pipeInput('G', 'gg', 4);
      await input(1).pipeInput('H', 'hh', 6);
    });
    expect(supplier.processed).toEqual([
      kvt('A', 'aa', 1),
      kvt('B', 'bb', 9),
      kvt('C', 'cc', 2),
      kvt('D', 'dd', 8),
      kvt('E', 'ee', 3),
      kvt('F', 'ff', 7),
      kvt('G', 'gg', 4),
      kvt('H', 'hh', 6),
    ]);
  });
});

describe('KStreamImplTest: groupBy with a null key', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  // Kafka Streams writes the record to the repartition topic and KStreamAggregate drops it there.
  // DIFFERENCE (same outputs and count): our `<topic>-filter` node drops it before the repartition
  // topic, since a key serde that cannot represent null could not write it.
  it('shouldLogAndMeasureSkipsInAggregate (groupBy selector returning null)', async () => {
    const builder = new StreamsBuilder();
    const supplier = new MockProcessorSupplier<string, number>();
    builder
      .stream('topic', stringConsumed)
      .groupBy((_k, v) => (v === 'none' ? (null as unknown as string) : v), { value: str })
      .count({ name: 'count' })
      .toStream()
      .process(supplier.supplier);
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic', str, str);
    await input.pipeInput('a', 'x', 1);
    await input.pipeInput('b', 'none', 2);
    await input.pipeInput('c', 'x', 3);
    expect(supplier.processed).toEqual([kvt('x', 1, 1), kvt('x', 2, 3)]);
    expect(driver.droppedRecordsTotal()).toBe(1);
    expect(driver.createOutputTopic('test-count-repartition', str, str).readKeyValuesToList()).toEqual([
      { key: 'x', value: 'x' },
      { key: 'x', value: 'x' },
    ]);
  });
});

describe('KStreamPeekTest', () => {
  it('shouldObserveStreamElements', async () => {
    const builder = new StreamsBuilder();
    const peekObserved: { key: number; value: string }[] = [];
    const streamObserved = new MockProcessorSupplier<number, string>();
    builder
      .stream('topic', { key: Serdes.int32(), value: str })
      .peek((key, value) => peekObserved.push({ key, value }))
      .process(streamObserved.supplier);
    const expected: { key: number; value: string }[] = [];
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', Serdes.int32(), str);
      for (let key = 0; key < 32; key++) {
        await inputTopic.pipeInput(key, `V${key}`);
        expected.push({ key, value: `V${key}` });
      }
    });
    expect(peekObserved).toEqual(expected);
    expect(streamObserved.processed.map(({ key, value }) => ({ key, value }))).toEqual(expected);
  });
});

describe('KStreamSplitTest', () => {
  const isEven = (key: number): boolean => key % 2 === 0;
  const isMultipleOfThree = (key: number): boolean => key % 3 === 0;
  const isMultipleOfFive = (key: number): boolean => key % 5 === 0;
  const isMultipleOfSeven = (key: number): boolean => key % 7 === 0;
  const isNegative = (key: number): boolean => key < 0;
  const int = Serdes.int32();

  async function run(builder: StreamsBuilder, check: (driver: TopologyTestDriver) => void): Promise<void> {
    await withDriver(builder, async (driver) => {
      const inputTopic = driver.createInputTopic('topic', int, str);
      for (const expectedKey of [-1, 0, 1, 2, 3, 4, 5, 6, 7]) await inputTopic.pipeInput(expectedKey, `V${expectedKey}`);
      check(driver);
    });
  }

  // DIFFERENCE: every branch is named (branch(predicate, name)); Branched.withConsumer/withFunction
  // are plain code on the returned object, whose keys are the branch names.
  it('testKStreamSplit', async () => {
    const builder = new StreamsBuilder();
    const branches = builder
      .stream('topic', { key: int, value: str })
      .split()
      .branch(isEven, 'x2')
      .branch(isMultipleOfThree, 'x3')
      .branch(isMultipleOfFive, 'x5')
      .noDefaultBranch();
    for (const [name, stream] of Object.entries(branches)) stream.to(name);
    await run(builder, (driver) => {
      expect(driver.createOutputTopic('x2', int, str).readValuesToList()).toEqual(['V0', 'V2', 'V4', 'V6']);
      expect(driver.createOutputTopic('x3', int, str).readValuesToList()).toEqual(['V3']);
      expect(driver.createOutputTopic('x5', int, str).readValuesToList()).toEqual(['V5']);
    });
  });

  // DIFFERENCE: Kafka names unnamed branches by position (`foo-4`, default `foo-0`) and the child
  // node `<split name><branch name>`; ours are `<split name>-<branch name>` (default: `default`).
  it('testResultingMap', async () => {
    const builder = new StreamsBuilder();
    const branches = builder
      .stream('topic', { key: int, value: str })
      .split({ name: 'foo' })
      .branch(isEven, 'bar')
      .branch(isMultipleOfThree, '2')
      .branch(isMultipleOfFive, '3')
      .branch(isNegative, '4')
      .branch(isMultipleOfSeven, '5')
      .defaultBranch('0');
    expect(Object.keys(branches).sort()).toEqual(['0', '2', '3', '4', '5', 'bar']);
    for (const [name, stream] of Object.entries(branches)) stream.to(`foo-${name}`);
    await run(builder, (driver) => {
      expect(driver.createOutputTopic('foo-bar', int, str).readValuesToList()).toEqual(['V0', 'V2', 'V4', 'V6']);
      expect(driver.createOutputTopic('foo-4', int, str).readValuesToList()).toEqual(['V-1']);
      expect(driver.createOutputTopic('foo-5', int, str).readValuesToList()).toEqual(['V7']);
      expect(driver.createOutputTopic('foo-0', int, str).readValuesToList()).toEqual(['V1']);
    });
  });

  it('testBranchingWithNoTerminalOperation', async () => {
    const builder = new StreamsBuilder();
    const branches = builder.stream('topic', { key: int, value: str }).split().branch(isEven, 'a').branch(isMultipleOfFive, 'b').noDefaultBranch();
    branches.a.to('output');
    branches.b.to('output');
    await run(builder, (driver) => {
      expect(driver.createOutputTopic('output', int, str).readValuesToList()).toEqual(['V0', 'V2', 'V4', 'V5', 'V6']);
    });
  });
});

// Not in Kafka Streams: votestream's own operator, kept here so the suite covers every operator.
describe('votestream dedupe (no Kafka Streams counterpart)', () => {
  it('passes the first record of an identity and routes later ones to duplicates', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'seen', valueSerde: str });
    const { accepted, duplicates } = builder
      .stream('topic', stringConsumed)
      .dedupe({ key: (k) => k, store: 'seen', storeValue: (_k, v) => v, name: 'dedupe' });
    const a = new MockProcessorSupplier<string, string>();
    const d = new MockProcessorSupplier<string, string>();
    accepted.process(a.supplier);
    duplicates.process(d.supplier);
    await withDriver(builder, async (driver) => {
      const input = driver.createInputTopic('topic', str, str);
      await input.pipeInput('k', '1', 1);
      await input.pipeInput('k', '2', 2);
    });
    expect(a.processed).toEqual([kvt('k', '1', 1)]);
    expect(d.processed).toEqual([kvt('k', '2', 2)]);
  });
});
