import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreArgumentError, StoreCommitProtocolError } from '../../../statestores/errors.js';
import { createTaskStore, type TaskStore } from '../../../statestores/store-stack.js';
import { utf8Codec } from '../../../statestores/value-codec.js';
import { collect, TempDirs } from './helpers.js';

interface Variant {
  readonly label: string;
  /** A task store over fresh state. */
  create(): Promise<TaskStore<string>>;
  /** The same state as a new owner (or a restarted process) would open it. */
  reopen(previous: TaskStore<string>): Promise<TaskStore<string>>;
}

const dirs = new TempDirs();
const locations = new WeakMap<TaskStore<string>, string>();

const variants: Variant[] = [
  {
    label: 'LevelDB',
    async create() {
      const location = join(await dirs.make(), 'voters');
      const task = createTaskStore<string>({ name: 'voters', location, codec: utf8Codec });
      locations.set(task, location);
      await task.open();
      return task;
    },
    async reopen(previous) {
      const location = locations.get(previous) as string;
      const task = createTaskStore<string>({ name: 'voters', location, codec: utf8Codec });
      locations.set(task, location);
      await task.open();
      return task;
    },
  },
  {
    label: 'memory',
    async create() {
      const task = createTaskStore<string>({ name: 'voters', location: 'memory' });
      await task.open();
      return task;
    },
    // In memory there is no directory to reopen: the same committed store, opened again.
    async reopen(previous) {
      await previous.open();
      return previous;
    },
  },
];

describe.each(variants)('createTaskStore ($label)', (variant) => {
  const open: TaskStore<string>[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((task) => task.close()));
    await dirs.cleanup();
  });
  const create = async () => {
    const task = await variant.create();
    open.push(task);
    return task;
  };
  const crashAndReopen = async (task: TaskStore<string>) => {
    await task.close();
    const next = await variant.reopen(task);
    open.push(next);
    return next;
  };

  it('a fresh store has no restored offset', async () => {
    const task = await create();
    expect(task.restoredOffset()).toBeUndefined();
    expect(task.name).toBe('voters');
  });

  it('commit writes the buffer and the offset atomically; a reopen shows exactly that', async () => {
    const task = await create();
    await task.store.put('e1:u1', 'vote-1');
    await task.store.put('e1:u2', 'vote-2');
    await task.store.put('e1:u1', 'vote-1b');
    await task.store.delete('e1:u3');
    expect(task.pendingWrites).toBe(3);
    expect(task.seal()).toEqual([
      { key: 'e1:u2', value: 'vote-2' },
      { key: 'e1:u1', value: 'vote-1b' },
      { key: 'e1:u3', value: null },
    ]);
    await task.commit(4n);
    expect(task.pendingWrites).toBe(0);
    expect(task.restoredOffset()).toBe(4n);

    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([
      { key: 'e1:u1', value: 'vote-1b' },
      { key: 'e1:u2', value: 'vote-2' },
    ]);
    expect(await reopened.store.approximateCount()).toBe(2);
    expect(reopened.restoredOffset()).toBe(4n);
  });

  it('abort drops the buffer and the pending changelog; the committed state stays', async () => {
    const task = await create();
    await task.store.put('e1:u1', 'vote-1');
    task.seal();
    await task.commit(1);
    await task.store.put('e1:u2', 'vote-2');
    await task.store.delete('e1:u1');
    task.abort();
    expect(task.pendingWrites).toBe(0);
    expect(task.seal()).toEqual([]);
    expect(await collect(task.store.range())).toEqual([{ key: 'e1:u1', value: 'vote-1' }]);
    // Nothing pending: a commit without an offset is a no-op.
    await task.commit();
    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([{ key: 'e1:u1', value: 'vote-1' }]);
    expect(reopened.restoredOffset()).toBe(1n);
  });

  it('a crash before commit (close, reopen) shows only the committed state', async () => {
    const task = await create();
    await task.store.put('e1:u1', 'vote-1');
    task.seal();
    await task.commit(2n);
    await task.store.put('e1:u2', 'vote-2');
    await task.store.put('e1:u1', 'overwritten');
    task.seal(); // sent in a transaction that never committed
    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([{ key: 'e1:u1', value: 'vote-1' }]);
    expect(reopened.restoredOffset()).toBe(2n);
    expect(reopened.pendingWrites).toBe(0);
  });

  it('writes after seal() belong to the next commit; one sealed batch at a time', async () => {
    const task = await create();
    await task.store.put('a', '1');
    expect(task.seal()).toEqual([{ key: 'a', value: '1' }]);
    await task.store.put('b', '2');
    await task.store.put('a', '3');
    expect(task.pendingWrites).toBe(2);
    expect(() => task.seal()).toThrow(StoreCommitProtocolError);
    await task.commit(1n);
    expect(task.restoredOffset()).toBe(1n);
    // The later writes are still open, read over the committed one.
    expect(await task.store.get('a')).toBe('3');
    expect(task.seal()).toEqual([
      { key: 'b', value: '2' },
      { key: 'a', value: '3' },
    ]);
    await task.commit(3n);
    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([
      { key: 'a', value: '3' },
      { key: 'b', value: '2' },
    ]);
    expect(reopened.restoredOffset()).toBe(3n);
  });

  it('abort() drops a sealed batch whose commit never came, and the writes after it', async () => {
    const task = await create();
    await task.store.put('a', '1');
    task.seal();
    await task.commit(1n);
    await task.store.put('a', '2');
    task.seal(); // its transaction fails
    await task.store.put('b', '3');
    task.abort();
    expect(await collect(task.store.range())).toEqual([{ key: 'a', value: '1' }]);
    expect(task.seal()).toEqual([]);
    await task.commit();
    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([{ key: 'a', value: '1' }]);
    expect(reopened.restoredOffset()).toBe(1n);
  });

  it('refuses a commit without offset while changelog records are pending, and an offset going back', async () => {
    const task = await create();
    await task.store.put('a', '1');
    task.seal();
    await expect(task.commit()).rejects.toThrow(/needs the changelog offset/);
    await task.commit(10n);
    await task.store.put('b', '1');
    task.seal();
    await expect(task.commit(9n)).rejects.toThrow(StoreCommitProtocolError);
    // Still sealed, still read.
    expect(task.pendingWrites).toBe(0);
    expect(await task.store.get('b')).toBe('1');
    await task.commit(11n);
    expect(await task.store.get('b')).toBe('1');
  });

  it('writes made while a commit is being written belong to the next commit', async () => {
    const task = await create();
    await task.store.put('a', '1');
    task.seal();
    const committing = task.commit(1n);
    await task.store.put('b', '2');
    await committing;
    expect(task.pendingWrites).toBe(1);
    expect(task.seal()).toEqual([{ key: 'b', value: '2' }]);
    await task.commit(2n);
    const reopened = await crashAndReopen(task);
    expect(await collect(reopened.store.range())).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
  });

  describe('restoreBatch', () => {
    it('applies changelog records in one batch with the offset they reach', async () => {
      const task = await create();
      await task.restoreBatch([
        { key: 'e1:u1', value: 'v1', offset: 0n },
        { key: 'e1:u2', value: 'v2', offset: 1n },
        { key: 'e1:u1', value: null, offset: 2n },
        { key: 'e1:u3', value: 'v3', offset: 3 },
        { key: 'e1:u1', value: 'v1b', offset: 5n },
      ]);
      expect(task.restoredOffset()).toBe(6n);
      expect(task.seal()).toEqual([]); // restoring is not a change to log
      task.abort();
      const reopened = await crashAndReopen(task);
      expect(await collect(reopened.store.range())).toEqual([
        { key: 'e1:u1', value: 'v1b' },
        { key: 'e1:u2', value: 'v2' },
        { key: 'e1:u3', value: 'v3' },
      ]);
      expect(reopened.restoredOffset()).toBe(6n);
      expect(await reopened.store.approximateCount()).toBe(3);
    });

    it('skips records below the stored offset and takes an explicit next offset', async () => {
      const task = await create();
      await task.restoreBatch([{ key: 'a', value: '1', offset: 0n }]);
      await task.restoreBatch(
        [
          { key: 'a', value: 'stale', offset: 0n },
          { key: 'b', value: '2', offset: 1n },
        ],
        5n, // e.g. past a transaction marker
      );
      expect(await collect(task.store.range())).toEqual([
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ]);
      expect(task.restoredOffset()).toBe(5n);
      await task.restoreBatch([], 7n); // only markers read
      expect(task.restoredOffset()).toBe(7n);
      await task.restoreBatch([]); // nothing read: nothing changes
      expect(task.restoredOffset()).toBe(7n);
    });

    it('refuses out-of-order records, a position not past the records, and restoring under buffered writes', async () => {
      const task = await create();
      await expect(
        task.restoreBatch([
          { key: 'a', value: '1', offset: 3n },
          { key: 'b', value: '1', offset: 2n },
        ]),
      ).rejects.toThrow(StoreCommitProtocolError);
      await expect(task.restoreBatch([{ key: 'a', value: '1', offset: 3n }], 3n)).rejects.toThrow(StoreCommitProtocolError);
      await expect(task.restoreBatch([{ key: 'a', value: '1', offset: -1 }])).rejects.toThrow(StoreArgumentError);
      await task.store.put('x', '1');
      await expect(task.restoreBatch([{ key: 'a', value: '1', offset: 0n }])).rejects.toThrow(/buffered writes/);
      task.seal();
      await expect(task.restoreBatch([{ key: 'a', value: '1', offset: 0n }])).rejects.toThrow(/a sealed batch/);
      expect(task.restoredOffset()).toBeUndefined();
      task.abort();
      expect(await task.store.approximateCount()).toBe(0);
    });
  });

  it('destroy() wipes the committed state', async () => {
    const task = await create();
    await task.store.put('a', '1');
    task.seal();
    await task.commit(1n);
    await task.destroy();
    const fresh = await variant.reopen(task);
    open.push(fresh);
    expect(await fresh.store.approximateCount()).toBe(0);
    expect(fresh.restoredOffset()).toBeUndefined();
  });
});

describe('createTaskStore commit failure', () => {
  afterEach(() => dirs.cleanup());

  it('keeps the writes buffered when the batch cannot be written', async () => {
    const task = createTaskStore<{ n: bigint | number }>({ name: 'voters', location: join(await dirs.make(), 'voters') });
    await task.open();
    await task.store.put('ok', { n: 1 });
    await task.store.put('bad', { n: 1n }); // JSON cannot encode a bigint: fails only at commit
    task.seal();
    await expect(task.commit(1n)).rejects.toThrow(/cannot be encoded/);
    expect(task.pendingWrites).toBe(2);
    expect(await task.store.get('ok')).toEqual({ n: 1 });
    expect(task.restoredOffset()).toBeUndefined();
    await task.store.put('bad', { n: 2 });
    task.seal();
    await task.commit(2n);
    expect(task.pendingWrites).toBe(0);
    expect(await task.store.approximateCount()).toBe(2);
    expect(task.restoredOffset()).toBe(2n);
    await task.close();
  });
});

describe('createTaskStore options', () => {
  it('without changelog: no records and commits need no offset', async () => {
    const task = createTaskStore<string>({ name: 'cache', location: 'memory', changelog: false });
    await task.open();
    await task.store.put('a', '1');
    expect(task.seal()).toEqual([]);
    await task.commit();
    expect(task.pendingWrites).toBe(0);
    expect(await task.store.get('a')).toBe('1');
    expect(task.restoredOffset()).toBeUndefined();
    await task.close();
  });

  it('with a registry: the user-facing store is metered under the task label', async () => {
    const registry = new Registry();
    const task = createTaskStore<string>({ name: 'voters', location: 'memory', registry, taskId: 'dedup-3' });
    await task.open();
    await task.store.put('a', '1');
    await task.store.get('a');
    task.seal();
    await task.commit(1n);
    const text = await registry.metrics();
    expect(text).toContain('votestream_store_operations_total{store="voters",task="dedup-3",op="put"} 1');
    expect(text).toContain('votestream_store_operations_total{store="voters",task="dedup-3",op="get"} 1');
    expect(text).toContain('votestream_store_entries{store="voters",task="dedup-3"} 1');
    await task.close();
  });
});
