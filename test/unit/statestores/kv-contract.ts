import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommittableKeyValueStore } from '../../../statestores/committable-store.js';
import { StoreArgumentError, StoreCommitProtocolError, StoreNotOpenError } from '../../../statestores/errors.js';
import { collect, keysOf } from './helpers.js';

export interface Vote {
  readonly candidate: string;
}

export interface ContractFixture {
  /** A fresh, unopened store. */
  make(name: string): Promise<CommittableKeyValueStore<Vote>>;
  cleanup(): Promise<void>;
}

const v = (candidate: string): Vote => ({ candidate });

/**
 * The behaviour every committed store shares. Run by both the in-memory and the LevelDB store
 * tests, so the TopologyTestDriver (in-memory) and production (LevelDB) cannot drift apart.
 */
export function describeKeyValueStoreContract(label: string, fixture: ContractFixture): void {
  describe(`${label}: KeyValueStore contract`, () => {
    let store: CommittableKeyValueStore<Vote>;

    beforeEach(async () => {
      store = await fixture.make('voters');
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    it('has its name', () => {
      expect(store.name).toBe('voters');
    });

    it('gets what was put, undefined for absent keys, the last value after an overwrite', async () => {
      expect(await store.get('e1:u1')).toBeUndefined();
      await store.put('e1:u1', v('c1'));
      expect(await store.get('e1:u1')).toEqual(v('c1'));
      await store.put('e1:u1', v('c2'));
      expect(await store.get('e1:u1')).toEqual(v('c2'));
    });

    it('getMany answers in the order of the keys, with undefined where absent and repeats', async () => {
      await store.putAll([
        { key: 'a', value: v('1') },
        { key: 'b', value: v('2') },
      ]);
      expect(await store.getMany(['b', 'x', 'a', 'b'])).toEqual([v('2'), undefined, v('1'), v('2')]);
      expect(await store.getMany([])).toEqual([]);
    });

    it('putAll with a repeated key keeps the last value and counts the key once', async () => {
      await store.putAll([
        { key: 'a', value: v('1') },
        { key: 'a', value: v('2') },
        { key: 'b', value: v('3') },
      ]);
      expect(await store.get('a')).toEqual(v('2'));
      expect(await store.approximateCount()).toBe(2);
    });

    it('delete removes present keys and ignores absent ones', async () => {
      await store.put('a', v('1'));
      await store.delete('a');
      await store.delete('never-there');
      expect(await store.get('a')).toBeUndefined();
      expect(await store.approximateCount()).toBe(0);
    });

    it('approximateCount is exact through inserts, overwrites and deletes', async () => {
      expect(await store.approximateCount()).toBe(0);
      await store.put('a', v('1'));
      await store.put('b', v('1'));
      expect(await store.approximateCount()).toBe(2);
      await store.put('a', v('2'));
      expect(await store.approximateCount()).toBe(2);
      await store.delete('b');
      await store.delete('b');
      await store.delete('zzz');
      expect(await store.approximateCount()).toBe(1);
      await store.putAll([
        { key: 'a', value: v('3') },
        { key: 'c', value: v('3') },
        { key: 'd', value: v('3') },
      ]);
      expect(await store.approximateCount()).toBe(3);
    });

    it('concurrent writes keep the count exact', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k${i % 20}`, v(String(i)))));
      expect(await store.approximateCount()).toBe(20);
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.delete(`k${i}`)));
      expect(await store.approximateCount()).toBe(0);
    });

    describe('range', () => {
      beforeEach(async () => {
        // Put in shuffled order: the store sorts.
        await store.putAll(['d', 'b', 'e', 'a', 'c'].map((key) => ({ key, value: v(key.toUpperCase()) })));
      });

      it('returns all entries in key order', async () => {
        expect(await collect(store.range())).toEqual([
          { key: 'a', value: v('A') },
          { key: 'b', value: v('B') },
          { key: 'c', value: v('C') },
          { key: 'd', value: v('D') },
          { key: 'e', value: v('E') },
        ]);
      });

      it('gte is inclusive, lt exclusive', async () => {
        expect(await keysOf(store.range({ gte: 'b', lt: 'd' }))).toEqual(['b', 'c']);
        expect(await keysOf(store.range({ gte: 'bb' }))).toEqual(['c', 'd', 'e']);
        expect(await keysOf(store.range({ lt: 'c' }))).toEqual(['a', 'b']);
        expect(await keysOf(store.range({ gte: 'c', lt: 'c' }))).toEqual([]);
        expect(await keysOf(store.range({ gte: 'd', lt: 'b' }))).toEqual([]);
      });

      it('limit caps the entries, after the bounds', async () => {
        expect(await keysOf(store.range({ limit: 2 }))).toEqual(['a', 'b']);
        expect(await keysOf(store.range({ gte: 'c', limit: 2 }))).toEqual(['c', 'd']);
        expect(await keysOf(store.range({ gte: 'c', limit: 10 }))).toEqual(['c', 'd', 'e']);
        expect(await keysOf(store.range({ limit: 0 }))).toEqual([]);
      });

      it('a negative limit is refused', () => {
        expect(() => store.range({ limit: -1 })).toThrow(StoreArgumentError);
      });

      it('sees the store as it was when iteration started', async () => {
        const seen: string[] = [];
        for await (const { key } of store.range()) {
          if (key === 'a') {
            await store.put('aa', v('new'));
            await store.delete('e');
          }
          seen.push(key);
        }
        expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(await keysOf(store.range())).toEqual(['a', 'aa', 'b', 'c', 'd']);
      });

      it('can be left early, and the store stays usable', async () => {
        for await (const { key } of store.range()) {
          if (key === 'b') break;
        }
        expect(await store.get('e')).toEqual(v('E'));
      });
    });

    it('orders non-ASCII keys by code point, as LevelDB orders UTF-8 bytes', async () => {
      // JavaScript's default sort would put the emoji (a surrogate pair) before U+E000.
      const keys = ['😀', '\uFFFD', 'z', '\uE000', 'é', 'a', 'e1:ü'];
      await store.putAll(keys.map((key) => ({ key, value: v(key) })));
      expect(await keysOf(store.range())).toEqual(['a', 'e1:ü', 'z', 'é', '\uE000', '\uFFFD', '😀']);
      expect(await keysOf(store.range({ gte: '\uE000' }))).toEqual(['\uE000', '\uFFFD', '😀']);
      expect(await keysOf(store.range({ gte: '\uFFFE' }))).toEqual(['😀']);
      expect(await store.get('😀')).toEqual(v('😀'));
    });

    it('refuses keys with lone surrogates and null/undefined values', async () => {
      await expect(store.put('a\uD800', v('x'))).rejects.toThrow(StoreArgumentError);
      await expect(store.get('\uDC00')).rejects.toThrow(StoreArgumentError);
      await expect(store.put('a', null as unknown as Vote)).rejects.toThrow(StoreArgumentError);
      await expect(store.putAll([{ key: 'b', value: undefined as unknown as Vote }])).rejects.toThrow(StoreArgumentError);
      expect(await store.approximateCount()).toBe(0);
    });

    it('refuses operations before open and after close', async () => {
      const fresh = await fixture.make('other');
      await expect(fresh.get('a')).rejects.toThrow(StoreNotOpenError);
      await fresh.open();
      await fresh.open(); // idempotent
      await fresh.put('a', v('1'));
      await fresh.close();
      await expect(fresh.put('a', v('1'))).rejects.toMatchObject({ code: 'STORE_NOT_OPEN' });
      expect(() => fresh.range()).toThrow(StoreNotOpenError);
    });

    describe('writeBatch and the committed offset', () => {
      it('a fresh store has no committed offset', () => {
        expect(store.readCommittedOffset()).toBeUndefined();
      });

      it('applies puts and deletes and stores the offset as a bigint', async () => {
        await store.putAll([
          { key: 'a', value: v('1') },
          { key: 'b', value: v('1') },
        ]);
        await store.writeBatch([{ key: 'c', value: v('3') }, { key: 'a', value: v('2') }], ['b', 'absent'], { changelogOffset: 7 });
        expect(await collect(store.range())).toEqual([
          { key: 'a', value: v('2') },
          { key: 'c', value: v('3') },
        ]);
        expect(await store.approximateCount()).toBe(2);
        expect(store.readCommittedOffset()).toBe(7n);
        await store.writeBatch([], [], { changelogOffset: 2n ** 40n });
        expect(store.readCommittedOffset()).toBe(1099511627776n);
      });

      it('without meta leaves the offset alone', async () => {
        await store.writeBatch([], [], { changelogOffset: 5n });
        await store.writeBatch([{ key: 'a', value: v('1') }], []);
        expect(store.readCommittedOffset()).toBe(5n);
      });

      it('refuses an offset that goes backwards, and writes nothing of that batch', async () => {
        await store.writeBatch([], [], { changelogOffset: 10n });
        await expect(store.writeBatch([{ key: 'a', value: v('1') }], [], { changelogOffset: 9n })).rejects.toThrow(StoreCommitProtocolError);
        expect(await store.get('a')).toBeUndefined();
        expect(store.readCommittedOffset()).toBe(10n);
        await store.writeBatch([], [], { changelogOffset: 10n }); // equal is fine: an empty commit
      });

      it('refuses a key that is both put and deleted, and negative offsets', async () => {
        await expect(store.writeBatch([{ key: 'a', value: v('1') }], ['a'])).rejects.toThrow(StoreArgumentError);
        await expect(store.writeBatch([], [], { changelogOffset: -1 })).rejects.toThrow(StoreArgumentError);
        await expect(store.writeBatch([], [], { changelogOffset: 1.5 })).rejects.toThrow(StoreArgumentError);
        expect(await store.approximateCount()).toBe(0);
        expect(store.readCommittedOffset()).toBeUndefined();
      });
    });
  });
}
