import { describe, expect, it } from 'vitest';
import type { Sink, SinkSupplier } from '../../../sinks/sink.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { isTimestampedSerde } from '../../../topology/serdes/timestamped-serde.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();

function small() {
  const builder = new StreamsBuilder();
  builder
    .stream('votes', { key: str, value: str })
    .filter((_k, v) => v.length > 0)
    .to('out');
  return builder.build();
}

function voting() {
  const sink: SinkSupplier<string, string> = { name: 'redis-counts', create: () => ({}) as Sink<string, string> };
  const builder = new StreamsBuilder();
  const elections = builder.globalTable('elections', { key: str, value: str });
  builder.addStateStore({ name: 'voters' });
  const { accepted } = builder
    .stream('votes', { key: str, value: str })
    .join(elections, (_k, v) => v, (v, e) => `${v}/${e}`, { name: 'validate' })
    .dedupe({ key: (k) => k, store: 'voters', storeValue: (_k, v) => v, name: 'dedupe' });
  accepted.to('votes-accepted', { value: str });
  accepted.to(sink, { name: 'count-sink' });
  accepted.groupBy((_k, v) => v, { value: str }).count({ name: 'counts' }).toStream().to('counts', { value: Serdes.int32() });
  return builder.build();
}

describe('Topology.describe()', () => {
  it('prints Kafka Streams text for a small topology', () => {
    expect(small().describe().toString()).toBe(
      'Topologies:\n' +
        '   Sub-topology: 0\n' +
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [votes])\n' +
        '      --> KSTREAM-FILTER-0000000001\n' +
        '    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n' +
        '      --> KSTREAM-SINK-0000000002\n' +
        '      <-- KSTREAM-SOURCE-0000000000\n' +
        '    Sink: KSTREAM-SINK-0000000002 (topic: out)\n' +
        '      <-- KSTREAM-FILTER-0000000001\n' +
        '\n',
    );
  });

  it('numbers global stores and repartitioned sub-topologies in declaration order', () => {
    expect(voting().describe().toString()).toBe(
      `Topologies:
   Sub-topology: 0 for global store (will not generate tasks)
    Source: KSTREAM-SOURCE-0000000001 (topics: [elections])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [elections-STATE-STORE-0000000000])
      --> none
      <-- KSTREAM-SOURCE-0000000001
  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000003 (topics: [votes])
      --> validate
    Processor: validate (stores: [elections-STATE-STORE-0000000000])
      --> dedupe
      <-- KSTREAM-SOURCE-0000000003
    Processor: dedupe (stores: [voters])
      --> dedupe-accepted, dedupe-duplicates
      <-- validate
    Processor: dedupe-accepted (stores: [])
      --> KSTREAM-SINK-0000000006, count-sink, KSTREAM-KEY-SELECT-0000000008
      <-- dedupe
    Processor: KSTREAM-KEY-SELECT-0000000008 (stores: [])
      --> counts-repartition-filter
      <-- dedupe-accepted
    Processor: counts-repartition-filter (stores: [])
      --> counts-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000008
    Sink: KSTREAM-SINK-0000000006 (topic: votes-accepted)
      <-- dedupe-accepted
    Sink: count-sink (sink: redis-counts)
      <-- dedupe-accepted
    Sink: counts-repartition-sink (topic: counts-repartition)
      <-- counts-repartition-filter
    Processor: dedupe-duplicates (stores: [])
      --> none
      <-- dedupe

  Sub-topology: 2
    Source: counts-repartition-source (topics: [counts-repartition])
      --> KSTREAM-AGGREGATE-0000000009
    Processor: KSTREAM-AGGREGATE-0000000009 (stores: [counts])
      --> KTABLE-TOSTREAM-0000000013
      <-- counts-repartition-source
    Processor: KTABLE-TOSTREAM-0000000013 (stores: [])
      --> KSTREAM-SINK-0000000014
      <-- KSTREAM-AGGREGATE-0000000009
    Sink: KSTREAM-SINK-0000000014 (topic: counts)
      <-- KTABLE-TOSTREAM-0000000013

`,
    );
  });

  it('gives the same description as plain data', () => {
    expect(JSON.parse(JSON.stringify(small().describe()))).toEqual({
      subTopologies: [
        {
          id: 0,
          nodes: [
            { type: 'source', name: 'KSTREAM-SOURCE-0000000000', topics: ['votes'], successors: ['KSTREAM-FILTER-0000000001'] },
            {
              type: 'processor',
              name: 'KSTREAM-FILTER-0000000001',
              stores: [],
              successors: ['KSTREAM-SINK-0000000002'],
              predecessors: ['KSTREAM-SOURCE-0000000000'],
            },
            { type: 'sink', name: 'KSTREAM-SINK-0000000002', topic: 'out', predecessors: ['KSTREAM-FILTER-0000000001'] },
          ],
        },
      ],
      globalStores: [],
    });
  });

  it('draws a Mermaid flowchart', () => {
    expect(small().describe().toMermaid()).toBe(
      [
        'flowchart LR',
        '  subgraph sub0["Sub-topology: 0"]',
        '    n0["KSTREAM-SOURCE-0000000000"]',
        '    n1["KSTREAM-FILTER-0000000001"]',
        '    n2["KSTREAM-SINK-0000000002"]',
        '  end',
        '  t0[/"votes"/]',
        '  t1[/"out"/]',
        '  t0 --> n0',
        '  n0 --> n1',
        '  n1 --> n2',
        '  n2 --> t1',
        '',
      ].join('\n'),
    );
    expect(voting().describe().toMermaid()).toContain('  x0[["redis-counts"]]\n');
    expect(voting().describe().toMermaid()).toContain('  n3 -.- s0\n');
  });
});

describe('Topology', () => {
  it('is an immutable description', () => {
    const topology = voting();
    expect(Object.isFrozen(topology)).toBe(true);
    expect(Object.isFrozen(topology.subTopologies)).toBe(true);
    expect(Object.isFrozen(topology.subTopologies[0].nodes[0])).toBe(true);
    expect(Object.isFrozen(topology.subTopologies[0].stores)).toBe(true);
    expect(Object.isFrozen(topology.globalStores[0])).toBe(true);
  });

  it('lists the topics an application needs', () => {
    expect(voting().topics('votestream')).toEqual({
      sourceTopics: ['votes'],
      sinkTopics: ['votes-accepted', 'counts'],
      repartitionTopics: ['votestream-counts-repartition'],
      changelogTopics: [
        { store: 'voters', topic: 'votestream-voters-changelog' },
        { store: 'counts', topic: 'votestream-counts-changelog' },
      ],
      deadLetterTopics: ['votes-dlq'],
      globalTopics: ['elections'],
    });
  });

  it('describes each sub-topology for the runtime', () => {
    const [dedup, count] = voting().subTopologies;
    expect({ ...dedup, nodes: dedup.nodes.map((n) => n.name), stores: dedup.stores.map((s) => s.name) }).toEqual({
      id: 1,
      nodes: [
        'KSTREAM-SOURCE-0000000003',
        'validate',
        'dedupe',
        'dedupe-accepted',
        'dedupe-duplicates',
        'KSTREAM-SINK-0000000006',
        'count-sink',
        'KSTREAM-KEY-SELECT-0000000008',
        'counts-repartition-filter',
        'counts-repartition-sink',
      ],
      sourceTopics: ['votes'],
      sinkTopics: ['votes-accepted', 'counts-repartition'],
      internalTopics: ['counts-repartition'],
      stores: ['voters'],
      globalStores: ['elections-STATE-STORE-0000000000'],
    });
    expect(count.internalTopics).toEqual(['counts-repartition']);
    // An aggregation's store keeps each value with its timestamp (Kafka's TimestampedKeyValueStore).
    expect(count.stores.map((s) => ({ ...s, valueSerde: isTimestampedSerde(s.valueSerde) }))).toEqual([{ name: 'counts', logged: true, valueSerde: true }]);
  });
});
