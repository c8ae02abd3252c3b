import { beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreArgumentError, StoreCommitProtocolError } from '../../../statestores/errors.js';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import { WriteBufferStore } from '../../../statestores/write-buffer.js';
import { collect, keysOf } from './helpers.js';

describe('WriteBufferStore', () => {
  let inner: InMemoryKeyValueStore<string>;
  let buffer: WriteBufferStore<string>;

  beforeEach(async () => {
    inner = new InMemoryKeyValueStore<string>('voters');
    buffer = new WriteBufferStore(inner);
    await buffer.open();
    await inner.putAll([
      { key: 'a', value: 'A' },
      { key: 'c', value: 'C' },
      { key: 'e', value: 'E' },
    ]);
  });

  it('takes its name from the store below', () => {
    expect(buffer.name).toBe('voters');
  });

  it('reads its own writes without touching the committed store', async () => {
    await buffer.put('b', 'B');
    await buffer.put('a', 'A2');
    expect(await buffer.get('b')).toBe('B');
    expect(await buffer.get('a')).toBe('A2');
    expect(await buffer.get('c')).toBe('C');
    expect(await inner.get('b')).toBeUndefined();
    expect(await inner.get('a')).toBe('A');
    expect(buffer.size).toBe(2);
  });

  it('a delete is a tombstone that hides the committed entry', async () => {
    await buffer.delete('c');
    expect(await buffer.get('c')).toBeUndefined();
    expect(await buffer.getMany(['c'])).toEqual([undefined]);
    expect(await keysOf(buffer.range())).toEqual(['a', 'e']);
    expect(await inner.get('c')).toBe('C');
    await buffer.put('c', 'C2');
    expect(await buffer.get('c')).toBe('C2');
  });

  it('getMany merges the buffer with one getMany of only the undecided keys', async () => {
    await buffer.put('b', 'B');
    await buffer.delete('e');
    const spy = vi.spyOn(inner, 'getMany');
    expect(await buffer.getMany(['e', 'a', 'b', 'zz', 'c'])).toEqual([undefined, 'A', 'B', undefined, 'C']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy).toHaveBeenCalledWith(['a', 'zz', 'c']);
    spy.mockClear();
    expect(await buffer.getMany(['b', 'e'])).toEqual(['B', undefined]);
    expect(spy).not.toHaveBeenCalled();
  });

  describe('range merges buffer and committed store in key order', () => {
    beforeEach(async () => {
      await buffer.put('f', 'F');
      await buffer.put('b', 'B');
      await buffer.put('c', 'C2');
      await buffer.delete('e');
      await buffer.delete('d'); // a tombstone for a key that exists nowhere
    });

    it('without bounds', async () => {
      expect(await collect(buffer.range())).toEqual([
        { key: 'a', value: 'A' },
        { key: 'b', value: 'B' },
        { key: 'c', value: 'C2' },
        { key: 'f', value: 'F' },
      ]);
    });

    it('with bounds and limits', async () => {
      expect(await keysOf(buffer.range({ gte: 'b', lt: 'f' }))).toEqual(['b', 'c']);
      expect(await keysOf(buffer.range({ gte: 'c' }))).toEqual(['c', 'f']);
      expect(await keysOf(buffer.range({ limit: 2 }))).toEqual(['a', 'b']);
      expect(await keysOf(buffer.range({ gte: 'c', limit: 1 }))).toEqual(['c']);
      expect(await keysOf(buffer.range({ gte: 'd', limit: 1 }))).toEqual(['f']);
      expect(await keysOf(buffer.range({ limit: 0 }))).toEqual([]);
    });

    it('fills the limit past tombstones that shadow committed entries', async () => {
      await buffer.delete('a');
      await buffer.delete('b');
      await buffer.delete('c');
      expect(await keysOf(buffer.range({ limit: 1 }))).toEqual(['f']);
    });

    it('approximateCount is exact', async () => {
      // committed a, c, e; buffered: +f, +b, c overwritten, -e, -d (absent)
      expect(await buffer.approximateCount()).toBe(4);
      expect(await inner.approximateCount()).toBe(3);
    });
  });

  it('refuses invalid keys and values without buffering anything', async () => {
    await expect(buffer.put('x', null as unknown as string)).rejects.toThrow(StoreArgumentError);
    await expect(
      buffer.putAll([
        { key: 'ok', value: 'v' },
        { key: '\uD800', value: 'v' },
      ]),
    ).rejects.toThrow(StoreArgumentError);
    expect(buffer.size).toBe(0);
  });

  it('seal() moves the open writes into the sealed batch: one operation per key, still read, no longer written', async () => {
    await buffer.put('b', 'B1');
    await buffer.put('b', 'B2');
    await buffer.delete('a');
    await buffer.put('x', 'X');
    await buffer.delete('x');
    await buffer.put('y', 'Y');
    expect(buffer.sealedWrites()).toBeUndefined();
    buffer.seal();
    expect(buffer.sealedWrites()).toEqual({ puts: [{ key: 'b', value: 'B2' }, { key: 'y', value: 'Y' }], deletes: ['a', 'x'] });
    expect(buffer.size).toBe(0);
    expect(buffer.hasSealed).toBe(true);
    // The sealed writes are what a reader sees until the committed store has them.
    expect(await buffer.get('b')).toBe('B2');
    expect(await buffer.get('a')).toBeUndefined();
    expect(await buffer.getMany(['a', 'b', 'c', 'y'])).toEqual([undefined, 'B2', 'C', 'Y']);
    expect(await collect(buffer.range())).toEqual([
      { key: 'b', value: 'B2' },
      { key: 'c', value: 'C' },
      { key: 'e', value: 'E' },
      { key: 'y', value: 'Y' },
    ]);
    expect(await buffer.approximateCount()).toBe(4);
  });

  it('writes after seal() shadow the sealed batch and belong to the next one', async () => {
    await buffer.put('a', 'A2');
    await buffer.put('b', 'B2');
    buffer.seal();
    await buffer.delete('a');
    await buffer.put('b', 'B3');
    await buffer.put('d', 'D');
    expect(buffer.size).toBe(3);
    expect(await buffer.get('a')).toBeUndefined();
    expect(await buffer.getMany(['a', 'b', 'd'])).toEqual([undefined, 'B3', 'D']);
    expect(await collect(buffer.range())).toEqual([
      { key: 'b', value: 'B3' },
      { key: 'c', value: 'C' },
      { key: 'd', value: 'D' },
      { key: 'e', value: 'E' },
    ]);
    expect(await buffer.approximateCount()).toBe(4);
    // The sealed batch is unchanged by them.
    expect(buffer.sealedWrites()).toEqual({ puts: [{ key: 'a', value: 'A2' }, { key: 'b', value: 'B2' }], deletes: [] });
    expect(() => buffer.seal()).toThrow(StoreCommitProtocolError);
  });

  it('releaseSealed() hands reads of the sealed keys to the committed store', async () => {
    await buffer.put('a', 'A2');
    buffer.seal();
    buffer.releaseSealed();
    expect(buffer.hasSealed).toBe(false);
    expect(await buffer.get('a')).toBe('A');
    buffer.seal(); // a new batch can be sealed now
  });

  it('discard() drops the open and the sealed writes: reads see the committed store again', async () => {
    await buffer.put('a', 'A2');
    buffer.seal();
    await buffer.delete('c');
    buffer.discard();
    expect(buffer.size).toBe(0);
    expect(buffer.hasSealed).toBe(false);
    expect(await buffer.get('a')).toBe('A');
    expect(await buffer.get('c')).toBe('C');
  });

  it('requeueSealed() puts the sealed writes back into the open buffer, under newer ones', async () => {
    await buffer.put('a', 'A2');
    await buffer.delete('c');
    buffer.seal();
    await buffer.put('a', 'A3');
    buffer.requeueSealed();
    expect(buffer.hasSealed).toBe(false);
    expect(await buffer.get('a')).toBe('A3');
    expect(await buffer.get('c')).toBeUndefined();
    expect(buffer.size).toBe(2);
  });

  it('close() drops pending writes', async () => {
    await buffer.put('z', 'Z');
    await buffer.close();
    await buffer.open();
    expect(buffer.size).toBe(0);
    expect(await buffer.get('z')).toBeUndefined();
  });
});
