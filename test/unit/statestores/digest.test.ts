import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores, storeDigest } from '../../../statestores/digest.js';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import { LevelDbKeyValueStore } from '../../../statestores/leveldb-store.js';
import { TempDirs } from './helpers.js';

const entries = [
  { key: 'e1:u1', value: 'vote-1' },
  { key: 'e1:u2', value: 'vote-2' },
  { key: 'e1:u3', value: 'vote-3' },
  { key: 'e2:ü', value: 'vote-4' },
];

describe('storeDigest and diffStores', () => {
  const dirs = new TempDirs();
  let live: LevelDbKeyValueStore<string>;
  let rebuilt: InMemoryKeyValueStore<string>;

  beforeEach(async () => {
    live = new LevelDbKeyValueStore<string>('voters', join(await dirs.make(), 'voters'));
    rebuilt = new InMemoryKeyValueStore<string>('voters');
    await live.open();
    await rebuilt.open();
    // Different insertion order and an extra committed offset: neither changes the content.
    await live.writeBatch(entries, [], { changelogOffset: 99n });
    await rebuilt.putAll([...entries].reverse());
  });

  afterEach(async () => {
    await live.close();
    await rebuilt.close();
    await dirs.cleanup();
  });

  it('gives equal digests for equal content, in any kind of store', async () => {
    const a = await storeDigest(live);
    const b = await storeDigest(rebuilt);
    expect(a).toEqual(b);
    expect(a.entries).toBe(4);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await diffStores(live, rebuilt)).toEqual({ differences: [], truncated: false });
  });

  it('the digest of an empty store is the sha256 of nothing', async () => {
    const empty = new InMemoryKeyValueStore<string>('empty');
    await empty.open();
    expect(await storeDigest(empty)).toEqual({
      entries: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });

  it('changes when one value changes, and the diff names the key', async () => {
    const before = await storeDigest(rebuilt);
    await rebuilt.put('e1:u2', 'vote-X');
    const after = await storeDigest(rebuilt);
    expect(after.entries).toBe(4);
    expect(after.sha256).not.toBe(before.sha256);
    expect(await diffStores(live, rebuilt)).toEqual({
      differences: [{ key: 'e1:u2', kind: 'value-differs', a: 'vote-2', b: 'vote-X' }],
      truncated: false,
    });
  });

  it('does not confuse entry boundaries (key "ab" + value "c" vs key "a" + value "bc")', async () => {
    const x = new InMemoryKeyValueStore<string>('x');
    const y = new InMemoryKeyValueStore<string>('y');
    await x.open();
    await y.open();
    await x.put('ab', 'c');
    await y.put('a', 'bc');
    expect((await storeDigest(x)).sha256).not.toBe((await storeDigest(y)).sha256);
  });

  it('lists keys missing on either side in key order, up to the limit', async () => {
    await rebuilt.delete('e1:u1');
    await rebuilt.put('e1:u0', 'vote-0');
    await rebuilt.put('e3:u1', 'vote-5');
    await live.put('e1:u3', 'vote-3b');
    expect(await diffStores(live, rebuilt)).toEqual({
      differences: [
        { key: 'e1:u0', kind: 'missing-in-a', b: 'vote-0' },
        { key: 'e1:u1', kind: 'missing-in-b', a: 'vote-1' },
        { key: 'e1:u3', kind: 'value-differs', a: 'vote-3b', b: 'vote-3' },
        { key: 'e3:u1', kind: 'missing-in-a', b: 'vote-5' },
      ],
      truncated: false,
    });
    expect(await diffStores(live, rebuilt, 2)).toEqual({
      differences: [
        { key: 'e1:u0', kind: 'missing-in-a', b: 'vote-0' },
        { key: 'e1:u1', kind: 'missing-in-b', a: 'vote-1' },
      ],
      truncated: true,
    });
    expect(await diffStores(live, rebuilt, 4)).toMatchObject({ truncated: false });
    expect(await diffStores(live, rebuilt, 0)).toEqual({ differences: [], truncated: true });
  });
});
