import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();
const int = Serdes.int32();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function countByCandidate() {
  const builder = new StreamsBuilder();
  builder
    .stream('votes', { key: str, value: str })
    .groupBy((_voter, candidate) => candidate)
    .count({ name: 'counts' })
    .toStream()
    .to('counts', { value: int });
  return builder.build();
}

describe('groupBy repartitioning', () => {
  it('splits the topology at the repartition topic', () => {
    expect(countByCandidate().subTopologies.map((s) => [s.id, s.sourceTopics, s.sinkTopics])).toEqual([
      [0, ['votes'], ['counts-repartition']],
      [1, ['counts-repartition'], ['counts']],
    ]);
  });

  it('routes records through <applicationId>-<name>-repartition to the task owning the new key', async () => {
    driver = new TopologyTestDriver(countByCandidate(), { applicationId: 'app', partitions: 3 });
    // Voters u1,u3 are on partition 1 and u2,u4 on 0; candidates c1,c3 hash to 2 and c2 to 1.
    await driver.createInputTopic('votes', str, str).pipeKeyValueList([
      { key: 'u1', value: 'c1' },
      { key: 'u2', value: 'c2' },
      { key: 'u3', value: 'c1' },
      { key: 'u4', value: 'c3' },
    ]);
    expect(
      driver
        .createOutputTopic('app-counts-repartition', str, str)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.partition]),
    ).toEqual([
      ['c1', 'c1', 2],
      ['c2', 'c2', 1],
      ['c1', 'c1', 2],
      ['c3', 'c3', 2],
    ]);
    expect(
      driver
        .createOutputTopic('counts', str, int)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.partition]),
    ).toEqual([
      ['c1', 1, 2],
      ['c2', 1, 1],
      ['c1', 2, 2],
      ['c3', 1, 2],
    ]);
    const entries = async (partition: number) => {
      const out: [string, unknown][] = [];
      for await (const { key, value } of (await driver!.getKeyValueStore<number>('counts', partition)).range()) out.push([key, value]);
      return out;
    };
    expect([await entries(0), await entries(1), await entries(2)]).toEqual([
      [],
      [['c2', 1]],
      [
        ['c1', 2],
        ['c3', 1],
      ],
    ]);
    await expect(driver.getKeyValueStore('counts')).rejects.toThrow(
      'Store "counts" exists once per partition: pass the partition (0..2)',
    );
  });

  it('groupByKey repartitions only after a key-changing operator', () => {
    const builder = new StreamsBuilder();
    const votes = builder.stream('votes', { key: str, value: str });
    votes.groupByKey().count({ name: 'per-voter' });
    votes.selectKey((_k, v) => v).groupByKey({ name: 'by-candidate' }).count({ name: 'per-candidate' });
    const topology = builder.build();
    expect(topology.subTopologies.map((s) => [s.sourceTopics, s.stores.map((st) => st.name)])).toEqual([
      [['votes'], ['per-voter']],
      [['by-candidate-repartition'], ['per-candidate']],
    ]);
    expect(topology.subTopologies[1].nodes.map((n) => n.name)).toEqual([
      'by-candidate-repartition-source',
      'KSTREAM-AGGREGATE-0000000003',
    ]);
  });
});
