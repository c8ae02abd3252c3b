import type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';
import { StoreCommitProtocolError } from './errors.js';
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
 * records and output are not committed in Kafka yet.
 *
 * Two layers, so that processing need not stop while a commit is in flight: `seal()` moves the
 * open buffer into the sealed layer (the batch being committed) and opens a fresh one for the next
 * batch. Reads see the open buffer, then the sealed layer, then the store. The buffer never writes
 * to `inner` itself: the commit path writes the sealed batch with the changelog offset
 * (store-stack.ts) and then releases it; an abort discards both layers.
 */
export class WriteBufferStore<V> implements KeyValueStore<V> {
  readonly name: string;
  private buffer = new Map<string, Buffered<V>>();
  /** The batch whose commit is in flight: still read, no longer written. */
  private sealed: Map<string, Buffered<V>> | undefined;

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

  /** Whether a sealed batch waits for its commit. */
  get hasSealed(): boolean {
    return this.sealed !== undefined;
  }

  get(key: string): Promise<V | undefined> {
    try {
      assertValidKey(this.name, key);
    } catch (err) {
      return Promise.reject(err);
    }
    const buffered = this.lookup(key);
    if (buffered === undefined) return this.inner.get(key);
    return Promise.resolve(buffered === TOMBSTONE ? undefined : buffered);
  }

  /** What the two layers say about a key: a value, a tombstone, or undefined when the store decides. */
  private lookup(key: string): Buffered<V> | undefined {
    const buffered = this.buffer.get(key);
    if (buffered !== undefined || this.sealed === undefined) return buffered;
    return this.sealed.get(key);
  }

  /** Both layers as one, the open buffer over the sealed one. */
  private layered(): Map<string, Buffered<V>> {
    if (this.sealed === undefined) return this.buffer;
    const merged = new Map(this.sealed);
    for (const [key, value] of this.buffer) merged.set(key, value);
    return merged;
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const out: (V | undefined)[] = new Array<V | undefined>(keys.length);
    // Only the keys the buffer does not decide go to the inner store, in one getMany.
    const missIndexes: number[] = [];
    const missKeys: string[] = [];
    keys.forEach((key, i) => {
      assertValidKey(this.name, key);
      const buffered = this.lookup(key);
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
      [...this.layered()].filter(([key]) => withinBounds(key, options)).sort(([a], [b]) => compareKeys(a, b));
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
   * Exact: the committed count corrected by the buffered keys (one getMany over them; the layers
   * hold at most two commit intervals of writes).
   */
  async approximateCount(): Promise<number> {
    const base = await this.inner.approximateCount();
    const layered = this.layered();
    if (layered.size === 0) return base;
    const keys = [...layered.keys()];
    const committed = await this.inner.getMany(keys);
    let count = base;
    keys.forEach((key, i) => {
      const exists = committed[i] !== undefined;
      const deleted = layered.get(key) === TOMBSTONE;
      if (exists && deleted) count--;
      if (!exists && !deleted) count++;
    });
    return count;
  }

  /**
   * Seals the open buffer for a commit; a fresh buffer takes the writes made from now on, which
   * belong to the next commit. Reads still see the sealed writes until `releaseSealed()` (written
   * to the store) or `requeueSealed()`. One sealed batch at a time: a commit must finish before
   * the next one is sealed.
   */
  seal(): void {
    if (this.sealed !== undefined) {
      throw new StoreCommitProtocolError(this.name, 'seal() while an earlier sealed batch is not committed yet');
    }
    this.sealed = this.buffer;
    this.buffer = new Map();
  }

  /** The sealed batch as one operation per key, for the committed store; undefined when none is sealed. */
  sealedWrites(): PendingWrites<V> | undefined {
    if (this.sealed === undefined) return undefined;
    const puts: KeyValue<V>[] = [];
    const deletes: string[] = [];
    for (const [key, value] of this.sealed) {
      if (value === TOMBSTONE) deletes.push(key);
      else puts.push({ key, value });
    }
    return { puts, deletes };
  }

  /** The sealed batch is in the store now: reads go there. */
  releaseSealed(): void {
    this.sealed = undefined;
  }

  /**
   * The sealed batch could not be written: its writes go back into the open buffer, under any
   * write made since (those are newer), so reads still see them and the next commit persists them.
   */
  requeueSealed(): void {
    if (this.sealed === undefined) return;
    const merged = this.sealed;
    for (const [key, value] of this.buffer) {
      merged.delete(key);
      merged.set(key, value);
    }
    this.buffer = merged;
    this.sealed = undefined;
  }

  /** Drops both layers (abort, fencing, revocation). */
  discard(): void {
    this.buffer = new Map();
    this.sealed = undefined;
  }

  /** Pending writes are not written: closing without a commit is the same as a crash. */
  close(): Promise<void> {
    this.discard();
    return this.inner.close();
  }
}
