import type { KeyValue, RangeOptions } from './key-value-store.js';
import {
  assertNoRegression,
  normalizeBatch,
  toOffset,
  type CommitMeta,
  type CommittableKeyValueStore,
} from './committable-store.js';
import { StoreNotOpenError } from './errors.js';
import { assertValidKey, compareKeys, normalizeLimit } from './key-order.js';

/**
 * A store in a Map, for the TopologyTestDriver, tests and small tasks. It behaves like the LevelDB
 * store in everything a caller can observe (key order, validation, open/close, the committed
 * offset kept in memory), except two things:
 * - values are kept by reference, not serialised: mutating an object after put() changes the
 *   stored value (the write buffer in production holds references until commit too);
 * - nothing survives the process.
 */
export class InMemoryKeyValueStore<V> implements CommittableKeyValueStore<V> {
  readonly name: string;
  private readonly entries = new Map<string, V>();
  // Sorted lazily: puts stay O(1) and a burst of writes costs one sort at the next range().
  // Replaced, never mutated, so a running range() keeps iterating its own copy.
  private sortedKeys: string[] | undefined = [];
  private committedOffset: bigint | undefined;
  private isOpen = false;

  constructor(name: string) {
    this.name = name;
  }

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async get(key: string): Promise<V | undefined> {
    this.assertOpen('get');
    assertValidKey(this.name, key);
    return this.entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.assertOpen('getMany');
    return keys.map((key) => {
      assertValidKey(this.name, key);
      return this.entries.get(key);
    });
  }

  async put(key: string, value: V): Promise<void> {
    this.assertOpen('put');
    this.apply(normalizeBatch(this.name, [{ key, value }], []));
  }

  async putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    this.assertOpen('putAll');
    this.apply(normalizeBatch(this.name, entries, []));
  }

  async delete(key: string): Promise<void> {
    this.assertOpen('delete');
    this.apply(normalizeBatch(this.name, [], [key]));
  }

  async writeBatch(puts: readonly KeyValue<V>[], deletes: readonly string[], meta?: CommitMeta): Promise<void> {
    this.assertOpen('writeBatch');
    const ops = normalizeBatch(this.name, puts, deletes);
    const offset = meta === undefined ? undefined : toOffset(this.name, meta.changelogOffset);
    if (offset !== undefined) assertNoRegression(this.name, this.committedOffset, offset);
    // Everything validated before the first change: the batch is all or nothing.
    this.apply(ops);
    if (offset !== undefined) this.committedOffset = offset;
  }

  readCommittedOffset(): bigint | undefined {
    this.assertOpen('readCommittedOffset');
    return this.committedOffset;
  }

  range(options: RangeOptions = {}): AsyncIterable<KeyValue<V>> {
    this.assertOpen('range');
    const limit = normalizeLimit(this.name, options.limit);
    // Like a LevelDB iterator, a range sees the store as it was when iteration started.
    const snapshot = (): KeyValue<V>[] => {
      const keys = this.keysInOrder();
      const out: KeyValue<V>[] = [];
      for (let i = options.gte === undefined ? 0 : lowerBound(keys, options.gte); i < keys.length && out.length < limit; i++) {
        const key = keys[i];
        if (options.lt !== undefined && compareKeys(key, options.lt) >= 0) break;
        out.push({ key, value: this.entries.get(key) as V });
      }
      return out;
    };
    return {
      async *[Symbol.asyncIterator]() {
        yield* snapshot();
      },
    };
  }

  async approximateCount(): Promise<number> {
    this.assertOpen('approximateCount');
    return this.entries.size;
  }

  async close(): Promise<void> {
    // The data stays: a closed and reopened in-memory store is like a LevelDB directory reopened.
    this.isOpen = false;
  }

  /** Closes the store and drops its entries and offset: the in-memory counterpart of deleting a directory. */
  async destroy(): Promise<void> {
    this.isOpen = false;
    this.entries.clear();
    this.sortedKeys = [];
    this.committedOffset = undefined;
  }

  private apply(ops: ReadonlyMap<string, V | null>): void {
    for (const [key, value] of ops) {
      if (value === null) {
        if (this.entries.delete(key)) this.sortedKeys = undefined;
      } else {
        if (!this.entries.has(key)) this.sortedKeys = undefined;
        this.entries.set(key, value);
      }
    }
  }

  private keysInOrder(): string[] {
    this.sortedKeys ??= [...this.entries.keys()].sort(compareKeys);
    return this.sortedKeys;
  }

  private assertOpen(operation: string): void {
    if (!this.isOpen) throw new StoreNotOpenError(this.name, operation);
  }
}

/** Index of the first key >= bound. */
function lowerBound(keys: readonly string[], bound: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], bound) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

