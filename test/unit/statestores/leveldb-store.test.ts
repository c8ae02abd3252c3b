import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreCorruptionError, StoreOpenError } from '../../../statestores/errors.js';
import { LevelDbKeyValueStore } from '../../../statestores/leveldb-store.js';
import { bufferCodec, utf8Codec } from '../../../statestores/value-codec.js';
import { collect, TempDirs } from './helpers.js';
import { describeKeyValueStoreContract, type Vote } from './kv-contract.js';

const contractDirs = new TempDirs();
describeKeyValueStoreContract('LevelDbKeyValueStore', {
  make: async (name) => new LevelDbKeyValueStore<Vote>(name, join(await contractDirs.make(), name)),
  cleanup: () => contractDirs.cleanup(),
});

describe('LevelDbKeyValueStore', () => {
  const dirs = new TempDirs();
  const opened: LevelDbKeyValueStore<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await dirs.cleanup();
  });

  async function openStore<V>(location: string, codec?: Parameters<typeof makeStore<V>>[1]): Promise<LevelDbKeyValueStore<V>> {
    const store = makeStore<V>(location, codec);
    opened.push(store as LevelDbKeyValueStore<unknown>);
    await store.open();
    return store;
  }

  it('keeps entries, the exact count and the offset across a reopen, and range never shows the metadata', async () => {
    const location = join(await dirs.make(), 'voters');
    const first = await openStore<string>(location, utf8Codec);
    await first.writeBatch(
      [
        { key: 'e1:u1', value: 'vote-1' },
        { key: 'e1:u2', value: 'vote-2' },
        { key: 'e1:u3', value: 'vote-3' },
      ],
      ['e1:u9'],
      { changelogOffset: 42n },
    );
    await first.delete('e1:u2');
    await first.close();

    const second = await openStore<string>(location, utf8Codec);
    expect(await collect(second.range())).toEqual([
      { key: 'e1:u1', value: 'vote-1' },
      { key: 'e1:u3', value: 'vote-3' },
    ]);
    expect(await second.approximateCount()).toBe(2);
    expect(second.readCommittedOffset()).toBe(42n);
    // Keys sorting before and after the reserved meta prefix ("m") stay invisible to bounds too.
    expect(await collect(second.range({ gte: '' }))).toHaveLength(2);
    expect(await collect(second.range({ gte: 'm', lt: 'n' }))).toEqual([]);
  });

  it('stores utf8 values as plain bytes under the data prefix, metadata under the meta prefix', async () => {
    const location = join(await dirs.make(), 'voters');
    const store = await openStore<string>(location, utf8Codec);
    await store.writeBatch([{ key: 'e1:u1', value: 'vote-1' }], [], { changelogOffset: 5 });
    await store.close();
    const raw = new ClassicLevel<string, string>(location, { valueEncoding: 'utf8' });
    await raw.open();
    try {
      expect(await raw.iterator().all()).toEqual([
        ['de1:u1', 'vote-1'],
        ['mchangelog-offset', '5'],
        ['mcodec', 'utf8'],
        ['mcount', '1'],
      ]);
    } finally {
      await raw.close();
    }
  });

  it('round-trips Buffers with the buffer codec', async () => {
    const store = await openStore<Buffer>(join(await dirs.make(), 'raw'), bufferCodec);
    await store.put('k', Buffer.from([0, 1, 255]));
    expect(await store.get('k')).toEqual(Buffer.from([0, 1, 255]));
    expect(await store.getMany(['k', 'x'])).toEqual([Buffer.from([0, 1, 255]), undefined]);
  });

  it('refuses to open a store written with another codec', async () => {
    const location = join(await dirs.make(), 'voters');
    const store = await openStore<string>(location, utf8Codec);
    await store.put('a', 'x');
    await store.close();
    await expect(makeStore<Vote>(location).open()).rejects.toThrow(StoreCorruptionError);
  });

  it('refuses a second open of the same directory (LevelDB lock)', async () => {
    const location = join(await dirs.make(), 'voters');
    await openStore<Vote>(location);
    const error = await makeStore<Vote>(location)
      .open()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as StoreOpenError).message).toContain('locked by another process');
  });

  it('reports undecodable bytes as corruption, naming the key', async () => {
    const location = join(await dirs.make(), 'voters');
    const store = await openStore<string>(location, {
      name: 'json',
      encode: (value: string) => Buffer.from(value),
      decode: (bytes) => JSON.parse(Buffer.from(bytes).toString()) as string,
    });
    await store.put('e1:u1', 'not json');
    await expect(store.get('e1:u1')).rejects.toThrow(/key "e1:u1" cannot be decoded/);
  });

  it('destroy() closes the store and deletes its directory', async () => {
    const location = join(await dirs.make(), 'voters');
    const store = await openStore<Vote>(location);
    await store.put('a', { candidate: 'c1' });
    await store.destroy();
    await expect(access(location)).rejects.toMatchObject({ code: 'ENOENT' });
    const fresh = await openStore<Vote>(location);
    expect(await fresh.approximateCount()).toBe(0);
    expect(fresh.readCommittedOffset()).toBeUndefined();
  });
});

function makeStore<V>(location: string, codec?: ConstructorParameters<typeof LevelDbKeyValueStore<V>>[2]): LevelDbKeyValueStore<V> {
  return new LevelDbKeyValueStore<V>('voters', location, codec);
}
