import type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';
import { assertValidKey, assertValidValue, compareKeys, normalizeLimit, withinBounds } from './key-order.js';

/** A buffered delete. A symbol, so that no stored value can be mistaken for it. */
const TOMBSTONE: unique symbol = Symbol('tombstone');
type Buffered<V> = V | typeof TOMBSTONE;

/** What a drain hands to the committed store: one operation per key. */
export interface PendingWrites<V> {
  readonly puts: KeyValue<V>[];
  readonly deletes: string[];
}

/**
 * The per-task write buffer of DESIGN section 4: between two commits, writes stay here and the
 * committed store below (LevelDB) is only read, so LevelDB never holds state whose changelog
 * records and output are not committed in Kafka yet. Reads see the buffer first, then the store.
 *
 * The buffer never writes to `inner` itself: the commit path drains it and writes the batch with
 * the changelog offset (store-stack.ts), and an abort discards it.
 */
export class WriteBufferStore<V> implements KeyValueStore<V> {
  readonly name: string;
  private buffer = new Map<string, Buffered<V>>();

  constructor(private readonly inner: KeyValueStore<V>) {
    this.name = inner.name;
  }

  /** Number of keys with a pending write (puts and deletes). */
  get size(): number {
    return this.buffer.size;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  async get(key: string): Promise<V | undefined> {
    assertValidKey(this.name, key);
    const buffered = this.buffer.get(key);
    if (buffered === TOMBSTONE) return undefined;
    if (buffered !== undefined) return buffered;
    return this.inner.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const out: (V | undefined)[] = new Array<V | undefined>(keys.length);
    // Only the keys the buffer does not decide go to the inner store, in one getMany.
    const missIndexes: number[] = [];
    const missKeys: string[] = [];
    keys.forEach((key, i) => {
      assertValidKey(this.name, key);
      const buffered = this.buffer.get(key);
      if (buffered === undefined) {
        missIndexes.push(i);
        missKeys.push(key);
      } else {
        out[i] = buffered === TOMBSTONE ? undefined : buffered;
      }
    });
    if (missKeys.length > 0) {
      const values = await this.inner.getMany(missKeys);
      missIndexes.forEach((index, j) => {
        out[index] = values[j];
      });
    }
    return out;
  }

  async put(key: string, value: V): Promise<void> {
    assertValidKey(this.name, key);
    assertValidValue(this.name, key, value);
    this.buffer.set(key, value);
  }

  async putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    // Validate all first, so that a bad entry leaves the buffer as it was.
    for (const { key, value } of entries) {
      assertValidKey(this.name, key);
      assertValidValue(this.name, key, value);
    }
    for (const { key, value } of entries) this.buffer.set(key, value);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(this.name, key);
    // A tombstone even if the key exists nowhere: finding out would cost a read, and deleting an
    // absent key in the committed store is harmless.
    this.buffer.set(key, TOMBSTONE);
  }

  /** Buffered and committed entries merged in key order; a buffered write shadows the committed entry. */
  range(options: RangeOptions = {}): AsyncIterable<KeyValue<V>> {
    const limit = normalizeLimit(this.name, options.limit);
    const inner = this.inner;
    const bufferedInRange = (): [string, Buffered<V>][] =>
      [...this.buffer].filter(([key]) => withinBounds(key, options)).sort(([a], [b]) => compareKeys(a, b));
    return {
      async *[Symbol.asyncIterator]() {
        if (limit === 0) return;
        // Taken when iteration starts, like the snapshot a LevelDB iterator reads from.
        const buffered = bufferedInRange();
        // Each buffered key shadows at most one committed entry, so this many committed entries
        // always suffice to fill `limit`.
        const innerLimit = limit === Infinity ? undefined : limit + buffered.length;
        const committed = inner.range({ gte: options.gte, lt: options.lt, limit: innerLimit })[Symbol.asyncIterator]();
        try {
          let next = await committed.next();
          let b = 0;
          let emitted = 0;
          while (emitted < limit) {
            const own = buffered[b];
            if (own === undefined && next.done) return;
            const order = own === undefined ? 1 : next.done ? -1 : compareKeys(own[0], next.value.key);
            if (order <= 0) {
              b++;
              if (order === 0) next = await committed.next();
              if (own[1] !== TOMBSTONE) {
                emitted++;
                yield { key: own[0], value: own[1] };
              }
            } else {
              emitted++;
              yield next.value as KeyValue<V>;
              next = await committed.next();
            }
          }
        } finally {
          await committed.return?.();
        }
      },
    };
  }

  /**
   * Exact: the committed count corrected by the buffered keys (one getMany over them; the buffer
   * holds at most one commit interval of writes).
   */
  async approximateCount(): Promise<number> {
    const base = await this.inner.approximateCount();
    if (this.buffer.size === 0) return base;
    const keys = [...this.buffer.keys()];
    const committed = await this.inner.getMany(keys);
    let count = base;
    keys.forEach((key, i) => {
      const exists = committed[i] !== undefined;
      const deleted = this.buffer.get(key) === TOMBSTONE;
      if (exists && deleted) count--;
      if (!exists && !deleted) count++;
    });
    return count;
  }

  /**
   * Hands over the pending writes and empties the buffer in one synchronous step: writes made
   * while the caller awaits its commit go to a fresh buffer and belong to the next commit.
   */
  drain(): PendingWrites<V> {
    const drained = this.buffer;
    this.buffer = new Map();
    const puts: KeyValue<V>[] = [];
    const deletes: string[] = [];
    for (const [key, value] of drained) {
      if (value === TOMBSTONE) deletes.push(key);
      else puts.push({ key, value });
    }
    return { puts, deletes };
  }

  /**
   * Puts drained writes back after a failed commit, under any write made since (those are newer).
   * Keeps read-your-writes intact and lets the next commit persist them.
   */
  requeue(pending: PendingWrites<V>): void {
    const merged = new Map<string, Buffered<V>>();
    for (const { key, value } of pending.puts) merged.set(key, value);
    for (const key of pending.deletes) merged.set(key, TOMBSTONE);
    for (const [key, value] of this.buffer) merged.set(key, value);
    this.buffer = merged;
  }

  /** Drops the pending writes (abort, fencing, revocation). */
  discard(): void {
    this.buffer = new Map();
  }

  /** Pending writes are not written: closing without a commit is the same as a crash. */
  close(): Promise<void> {
    this.buffer = new Map();
    return this.inner.close();
  }
}
