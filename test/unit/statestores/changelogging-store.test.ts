import { describe, expect, it } from 'vitest';
import { ChangelogCollector } from '../../../statestores/changelog-collector.js';
import { ChangeLoggingKeyValueStore, changelogTopicName, type ChangelogRecord } from '../../../statestores/changelogging-store.js';
import { StoreArgumentError } from '../../../statestores/errors.js';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';

describe('ChangeLoggingKeyValueStore', () => {
  it('reports every successful put, putAll entry and delete, in order', async () => {
    const records: ChangelogRecord<string>[] = [];
    const store = new ChangeLoggingKeyValueStore(new InMemoryKeyValueStore<string>('voters'), {
      record: (key, value) => records.push({ key, value }),
    });
    await store.open();
    await store.put('e1:u1', 'v1');
    await store.putAll([
      { key: 'e1:u2', value: 'v2' },
      { key: 'e1:u1', value: 'v3' },
    ]);
    await store.delete('e1:u2');
    await expect(store.put('bad\uDC00', 'v')).rejects.toThrow(StoreArgumentError);
    expect(await store.get('e1:u1')).toBe('v3');
    expect(records).toEqual([
      { key: 'e1:u1', value: 'v1' },
      { key: 'e1:u2', value: 'v2' },
      { key: 'e1:u1', value: 'v3' },
      { key: 'e1:u2', value: null },
    ]);
  });

  it('names changelog topics as DESIGN section 3 does', () => {
    expect(changelogTopicName('votestream', 'voters')).toBe('votestream-voters-changelog');
  });
});

describe('ChangelogCollector', () => {
  it('keeps the last write per key, in the order of last writes', () => {
    const collector = new ChangelogCollector<string>();
    collector.record('a', '1');
    collector.record('b', '1');
    collector.record('a', '2');
    collector.record('c', '1');
    collector.record('b', null);
    expect(collector.records()).toEqual([
      { key: 'a', value: '2' },
      { key: 'c', value: '1' },
      { key: 'b', value: null },
    ]);
    expect(collector.size).toBe(3);
    expect(collector.writeCount).toBe(5);
    collector.clear();
    expect(collector.records()).toEqual([]);
    expect(collector.writeCount).toBe(5);
  });
});
