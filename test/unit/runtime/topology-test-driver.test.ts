import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import { LevelDbKeyValueStore } from '../../../statestores/leveldb-store.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();

function counts() {
  const builder = new StreamsBuilder();
  builder.stream('words', { key: str, value: str }).groupByKey().count({ name: 'counts' });
  return builder.build();
}

describe('TopologyTestDriver', () => {
  it('runs on LevelDB stores under stateDir/<taskId>/<store>', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ttd-test-'));
    const driver = new TopologyTestDriver(counts(), { stores: 'leveldb', stateDir });
    try {
      await driver.createInputTopic('words', str, str).pipeKeyValueList([
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ]);
      // An aggregation's store keeps timestamps: getKeyValueStore is a view of its values.
      expect(await driver.getTimestampedKeyValueStore<number>('counts')).toBeInstanceOf(LevelDbKeyValueStore);
      const store = await driver.getKeyValueStore<number>('counts');
      expect(await store.get('a')).toBe(2);
      expect(await readdir(join(stateDir, '0_0'))).toEqual(['counts']);
    } finally {
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('rejects unknown input topics and stores, and use after close', async () => {
    const driver = new TopologyTestDriver(counts());
    expect(() => driver.createInputTopic('nope', str, str)).toThrow('Topic "nope" is not read by the topology (it reads: words)');
    await expect(driver.getKeyValueStore('nope')).rejects.toThrow('The topology has no store named "nope"');
    await driver.close();
    await driver.close();
    await expect(driver.createInputTopic('words', str, str).pipeInput('a', 'b')).rejects.toThrow('The TopologyTestDriver is closed');
  });

  it('serialises operations that are not awaited', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).to('out');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('in', str, str);
    await Promise.all(['1', '2', '3'].map((v) => input.pipeInput('k', v)));
    expect(driver.createOutputTopic('out', str, str).readValuesToList()).toEqual(['1', '2', '3']);
    await driver.close();
  });
});
