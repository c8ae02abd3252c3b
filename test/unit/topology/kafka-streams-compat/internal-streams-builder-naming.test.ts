import { describe, expect, it } from 'vitest';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import type { Topology } from '../../../../topology/topology.js';
import { votingTopology } from '../../../../voting/topology.js';

/**
 * Mirrors the naming cases of Kafka Streams' StreamsBuilderTest (shouldUseSpecifiedNameFor...) and
 * InternalStreamsBuilder's numbering: one counter for processors and stores, an index spent by a
 * named operator too (NamedInternal.orElseGenerateWithPrefix), so naming an operator never renames
 * what comes after it (a renamed store or repartition topic loses its state on redeploy).
 */

const str = Serdes.string();
const consumed = { key: str, value: str };

function nodeNames(topology: Topology): string[] {
  return topology.subTopologies.flatMap((s) => s.nodes.map((n) => n.name));
}

function storeNames(topology: Topology): string[] {
  return topology.subTopologies.flatMap((s) => s.stores.map((n) => n.name));
}

describe('StreamsBuilderTest (names)', () => {
  it('shouldUseSpecifiedNameForStreamSourceProcessor', () => {
    const builder = new StreamsBuilder();
    const one = builder.stream('stream-topic', { ...consumed, name: 'source-node' });
    builder.stream('stream-topic-two', consumed).merge(one).to('out');
    expect(nodeNames(builder.build())).toEqual(['source-node', 'KSTREAM-SOURCE-0000000001', 'KSTREAM-MERGE-0000000002', 'KSTREAM-SINK-0000000003']);
  });

  it('shouldUseSpecifiedNameForTableSourceProcessor', () => {
    const builder = new StreamsBuilder();
    builder.table('stream-topic', { ...consumed, name: 'source-node' });
    builder.table('stream-topic-two', consumed);
    expect(nodeNames(builder.build())).toEqual(['source-node-source', 'source-node', 'KSTREAM-SOURCE-0000000004', 'KTABLE-SOURCE-0000000005']);
  });

  it('shouldUseSpecifiedNameForToStream', () => {
    const builder = new StreamsBuilder();
    builder.table('stream-topic', consumed).toStream({ name: 'to-stream' }).to('out');
    expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000001', 'KTABLE-SOURCE-0000000002', 'to-stream', 'KSTREAM-SINK-0000000004']);
  });

  it('shouldUseSpecifiedNameForGlobalTableSourceProcessor', () => {
    const builder = new StreamsBuilder();
    builder.globalTable('stream-topic', { ...consumed, name: 'source-processor' });
    builder.globalTable('stream-topic-two', consumed);
    const { globalStores } = builder.build();
    expect(globalStores.map((g) => [g.storeName, g.sourceName, g.processorName])).toEqual([
      ['stream-topic-STATE-STORE-0000000000', 'source-processor-source', 'source-processor'],
      ['stream-topic-two-STATE-STORE-0000000003', 'KSTREAM-SOURCE-0000000004', 'KTABLE-SOURCE-0000000005'],
    ]);
  });

  it('shouldUseDefaultNameForGlobalStoreProcessor', () => {
    const builder = new StreamsBuilder();
    builder.globalTable('topic', { ...consumed, storeName: 'store' });
    expect(builder.build().globalStores.map((g) => [g.sourceName, g.processorName])).toEqual([['KSTREAM-SOURCE-0000000000', 'KTABLE-SOURCE-0000000001']]);
  });

  it('shouldUseSpecifiedNameForGlobalStoreProcessor', () => {
    const builder = new StreamsBuilder();
    builder.globalTable('topic', { ...consumed, storeName: 'store', name: 'test' });
    expect(builder.build().globalStores.map((g) => [g.sourceName, g.processorName])).toEqual([['test-source', 'test']]);
  });

  it('shouldUseSpecifiedNameForSinkProcessor', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('stream-topic', consumed);
    stream.to('stream-topic-two', { name: 'sink-processor' });
    stream.to('stream-topic-two');
    expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000000', 'sink-processor', 'KSTREAM-SINK-0000000002']);
  });

  for (const [method, op] of [
    ['shouldUseSpecifiedNameForMapOperation', 'map'],
    ['shouldUseSpecifiedNameForMapValuesOperation', 'mapValues'],
    ['shouldUseSpecifiedNameForFilterOperation', 'filter'],
  ] as const) {
    it(method, () => {
      const builder = new StreamsBuilder();
      const stream = builder.stream('stream-topic', consumed);
      const named = { name: 'stream-operation' };
      if (op === 'map') stream.map((key, value) => ({ key, value }), named).to('out', consumed);
      if (op === 'mapValues') stream.mapValues((v) => v, named).to('out', consumed);
      if (op === 'filter') stream.filter(() => true, named).to('out');
      // The sink after the named operator is numbered as if it were unnamed: index 1 was spent.
      expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000000', 'stream-operation', 'KSTREAM-SINK-0000000002']);
    });
  }

  // DIFFERENCE: Kafka concatenates `<split name><branch name>` (Branched.as("-1")); ours puts the
  // dash in: branch '1' of split 'branch-processor' is 'branch-processor-1'.
  it('shouldUseSpecifiedNameForSplitOperation', () => {
    const builder = new StreamsBuilder();
    const branches = builder
      .stream('stream-topic', consumed)
      .split({ name: 'branch-processor' })
      .branch(() => true, '1')
      .branch(() => false, '2')
      .noDefaultBranch();
    branches['1'].to('out');
    // One index per branch, as BranchedKStreamImpl spends: the sink is 4 (source 0, split 1, branches 2 and 3).
    expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000000', 'branch-processor', 'branch-processor-1', 'branch-processor-2', 'KSTREAM-SINK-0000000004']);
  });

  it('shouldUseSpecifiedNameForMergeOperation', () => {
    const builder = new StreamsBuilder();
    builder.stream('topic-1', consumed).merge(builder.stream('topic-2', consumed), { name: 'merge-processor' }).to('out');
    expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000000', 'KSTREAM-SOURCE-0000000001', 'merge-processor', 'KSTREAM-SINK-0000000003']);
  });

  it('shouldUseSpecifiedNameForProcessOperation', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('stream-topic', consumed)
      .process(() => ({ process: () => undefined }), { name: 'test-processor' })
      .to('out', consumed);
    // Kafka's process(supplier, Named) is the one operator that spends no index when named.
    expect(nodeNames(builder.build())).toEqual(['KSTREAM-SOURCE-0000000000', 'test-processor', 'KSTREAM-SINK-0000000001']);
  });

  it('shouldUseSpecifiedNameForJoinOperationBetweenKStreamAndGlobalKTable', () => {
    const builder = new StreamsBuilder();
    const table = builder.globalTable('table', consumed);
    const stream = builder.stream('stream', consumed);
    stream.join(table, (k) => k, (v) => v).to('out', { value: str });
    stream.leftJoin(table, (k) => k, (v) => v, { name: 'left' }).to('out', { value: str });
    // Kafka's globalTableJoin names inner joins KSTREAM-LEFTJOIN too.
    expect(nodeNames(builder.build())).toEqual([
      'KSTREAM-SOURCE-0000000003',
      'KSTREAM-LEFTJOIN-0000000004',
      'KSTREAM-SINK-0000000005',
      'left',
      'KSTREAM-SINK-0000000007',
    ]);
  });
});

describe('InternalStreamsBuilder numbering', () => {
  // The case: naming the upstream filter must leave KSTREAM-AGGREGATE-STATE-STORE-0000000002,
  // its changelog and its processor as they were.
  for (const named of [false, true]) {
    it(`keeps generated store names when an upstream operator is ${named ? '' : 'not '}named`, () => {
      const builder = new StreamsBuilder();
      builder
        .stream('input', consumed)
        .filter(() => true, named ? { name: 'only-some' } : undefined)
        .groupByKey()
        .count()
        .toStream()
        .to('output', { value: Serdes.int32() });
      const topology = builder.build();
      expect(storeNames(topology)).toEqual(['KSTREAM-AGGREGATE-STATE-STORE-0000000002']);
      expect(nodeNames(topology)).toEqual([
        'KSTREAM-SOURCE-0000000000',
        named ? 'only-some' : 'KSTREAM-FILTER-0000000001',
        'KSTREAM-AGGREGATE-0000000003',
        'KTABLE-TOSTREAM-0000000004',
        'KSTREAM-SINK-0000000005',
      ]);
      expect(topology.topics('app').changelogTopics).toEqual([
        { store: 'KSTREAM-AGGREGATE-STATE-STORE-0000000002', topic: 'app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog' },
      ]);
    });
  }

  // WordCount: store, aggregation, then the repartition's sink, null-key filter and source.
  it('numbers a groupBy().count() as Kafka Streams does (WordCount)', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('streams-plaintext-input', consumed)
      .flatMapValues((v) => v.split(' '))
      .groupBy((_k, word) => word, { value: str })
      .count()
      .toStream()
      .to('streams-wordcount-output', { value: Serdes.int32() });
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => s.nodes.map((n) => n.name))).toEqual([
      ['KSTREAM-SOURCE-0000000000', 'KSTREAM-FLATMAPVALUES-0000000001', 'KSTREAM-KEY-SELECT-0000000002', 'KSTREAM-FILTER-0000000006', 'KSTREAM-SINK-0000000005'],
      ['KSTREAM-SOURCE-0000000007', 'KSTREAM-AGGREGATE-0000000004', 'KTABLE-TOSTREAM-0000000008', 'KSTREAM-SINK-0000000009'],
    ]);
    expect(storeNames(topology)).toEqual(['KSTREAM-AGGREGATE-STATE-STORE-0000000003']);
    expect(topology.topics('app').repartitionTopics).toEqual(['app-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition']);
  });

  it('names the repartition after a named grouping, and the key selector too (Grouped.as)', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('input', consumed)
      .groupBy((_k, v) => v, { name: 'by-value', value: str })
      .reduce((a, b) => a + b);
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => s.nodes.map((n) => n.name))).toEqual([
      ['KSTREAM-SOURCE-0000000000', 'by-value', 'by-value-repartition-filter', 'by-value-repartition-sink'],
      ['by-value-repartition-source', 'KSTREAM-REDUCE-0000000003'],
    ]);
    expect(storeNames(topology)).toEqual(['KSTREAM-REDUCE-STATE-STORE-0000000002']);
  });

  it('count(Materialized) without a store name spends one more index, as Kafka Streams keeps doing', () => {
    const builder = new StreamsBuilder();
    builder.stream('input', consumed).groupByKey().count({ logged: false });
    expect(storeNames(builder.build())).toEqual(['KSTREAM-AGGREGATE-STATE-STORE-0000000002']);
  });

  it('a named grouping shares one repartition topic between its aggregations', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('input', consumed).selectKey((_k, v) => v).groupByKey({ name: 'g' });
    grouped.count({ name: 'counts' });
    grouped.reduce((a, b) => a + b, { name: 'reduced' });
    const topology = builder.build();
    expect(topology.topics('app').repartitionTopics).toEqual(['app-g-repartition']);
    expect(topology.subTopologies.map((s) => s.nodes.map((n) => n.name))).toEqual([
      ['KSTREAM-SOURCE-0000000000', 'KSTREAM-KEY-SELECT-0000000001', 'g-repartition-filter', 'g-repartition-sink'],
      ['g-repartition-source', 'KSTREAM-AGGREGATE-0000000002', 'KSTREAM-REDUCE-0000000006'],
    ]);
  });
});

describe('the voting topology (pinned: renaming its stores or topics would lose state on redeploy)', () => {
  it('keeps its node, store and topic names', () => {
    const topology = votingTopology();
    expect(topology.describe().toString()).toBe(`Topologies:
   Sub-topology: 0 for global store (will not generate tasks)
    Source: KSTREAM-SOURCE-0000000000 (topics: [elections])
      --> KTABLE-SOURCE-0000000001
    Processor: KTABLE-SOURCE-0000000001 (stores: [elections])
      --> none
      <-- KSTREAM-SOURCE-0000000000
  Sub-topology: 1
    Source: votes-source (topics: [votes])
      --> decode
    Processor: decode (stores: [])
      --> decode-valid, decode-malformed
      <-- votes-source
    Processor: decode-valid (stores: [])
      --> vote
      <-- decode
    Processor: vote (stores: [])
      --> judge
      <-- decode-valid
    Processor: judge (stores: [elections])
      --> decide
      <-- vote
    Processor: decide (stores: [])
      --> decide-eligible, decide-ineligible
      <-- judge
    Processor: decide-eligible (stores: [])
      --> eligible-vote
      <-- decide
    Processor: eligible-vote (stores: [])
      --> dedupe
      <-- decide-eligible
    Processor: dedupe (stores: [voters])
      --> dedupe-accepted, dedupe-duplicates
      <-- eligible-vote
    Processor: decide-ineligible (stores: [])
      --> reject-ineligible
      <-- decide
    Processor: decode-malformed (stores: [])
      --> reject-malformed
      <-- decode
    Processor: dedupe-accepted (stores: [])
      --> attach-source
      <-- dedupe
    Processor: dedupe-duplicates (stores: [])
      --> reject-duplicate
      <-- dedupe
    Processor: attach-source (stores: [])
      --> accepted-sink
      <-- dedupe-accepted
    Processor: reject-duplicate (stores: [])
      --> rejected-duplicate-sink
      <-- dedupe-duplicates
    Processor: reject-ineligible (stores: [])
      --> rejected-ineligible-sink
      <-- decide-ineligible
    Processor: reject-malformed (stores: [])
      --> rejected-malformed-sink
      <-- decode-malformed
    Sink: accepted-sink (topic: votes-accepted)
      <-- attach-source
    Sink: rejected-duplicate-sink (topic: votes-rejected)
      <-- reject-duplicate
    Sink: rejected-ineligible-sink (topic: votes-rejected)
      <-- reject-ineligible
    Sink: rejected-malformed-sink (topic: votes-rejected)
      <-- reject-malformed

  Sub-topology: 2
    Source: count-source (topics: [votes-accepted])
      --> redis-count-sink
    Sink: redis-count-sink (sink: redis-counts)
      <-- count-source

  Sub-topology: 3
    Source: persist-source (topics: [votes-accepted])
      --> dynamodb-vote-sink
    Sink: dynamodb-vote-sink (sink: dynamodb-vote-log)
      <-- persist-source

`);
    expect(topology.globalStores.map((g) => [g.storeName, g.sourceName, g.processorName, g.topic])).toEqual([
      ['elections', 'KSTREAM-SOURCE-0000000000', 'KTABLE-SOURCE-0000000001', 'elections'],
    ]);
    expect(storeNames(topology)).toEqual(['voters']);
    expect(topology.topics('votestream')).toMatchObject({
      sourceTopics: ['votes', 'votes-accepted'],
      sinkTopics: ['votes-rejected', 'votes-accepted'],
      repartitionTopics: [],
      changelogTopics: [{ store: 'voters', topic: 'votestream-voters-changelog' }],
      deadLetterTopics: ['votes-dlq'],
      globalTopics: ['elections'],
    });
  });
});
