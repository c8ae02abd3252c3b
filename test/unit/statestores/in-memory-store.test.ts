import { describe, expect, it } from 'vitest';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import { describeKeyValueStoreContract, type Vote } from './kv-contract.js';

describeKeyValueStoreContract('InMemoryKeyValueStore', {
  make: async (name) => new InMemoryKeyValueStore<Vote>(name),
  cleanup: async () => undefined,
});

describe('InMemoryKeyValueStore', () => {
  it('keeps entries and offset across close and open; destroy drops them', async () => {
    const store = new InMemoryKeyValueStore<string>('voters');
    await store.open();
    await store.writeBatch([{ key: 'a', value: 'v1' }], [], { changelogOffset: 3n });
    await store.close();
    await store.open();
    expect(await store.get('a')).toBe('v1');
    expect(store.readCommittedOffset()).toBe(3n);
    await store.destroy();
    await store.open();
    expect(await store.approximateCount()).toBe(0);
    expect(store.readCommittedOffset()).toBeUndefined();
  });
});
