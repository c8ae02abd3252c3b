import type { KeyValue, KeyValueStore } from './key-value-store.js';
import { StoreArgumentError, StoreCommitProtocolError } from './errors.js';
import { assertValidKey, assertValidValue } from './key-order.js';

/**
 * What the commit protocol (DESIGN section 4, step 3) needs from the store under the write buffer:
 * one atomic write of a batch together with the changelog offset it reaches, and that offset back
 * after a restart. Both the LevelDB and the in-memory store implement it, so that the runtime and
 * the TopologyTestDriver drive the same code.
 *
 * The offset is the store's position in its changelog partition. The store does not interpret it
 * beyond "never goes backwards"; store-stack.ts fixes the convention (the next offset to read).
 */
export interface CommitMeta {
  readonly changelogOffset: bigint | number;
}

export interface CommittableKeyValueStore<V> extends KeyValueStore<V> {
  /**
   * Puts and deletes, and the offset when `meta` is given, in one atomic batch: after a crash
   * either all of it is visible or none. A key may appear in `puts` more than once (the last
   * wins) but not in both `puts` and `deletes`, whose relative order a batch could not express.
   */
  writeBatch(puts: readonly KeyValue<V>[], deletes: readonly string[], meta?: CommitMeta): Promise<void>;
  /** The offset of the last writeBatch with meta, undefined for a fresh store. Needs open(). */
  readCommittedOffset(): bigint | undefined;
}

/** Offsets arrive as bigint (Kafka clients) or number (tests); one representation inside. */
export function toOffset(storeName: string, offset: bigint | number): bigint {
  if (typeof offset === 'number' && !Number.isSafeInteger(offset)) {
    throw new StoreArgumentError(storeName, `changelog offset must be an integer, got ${offset}`);
  }
  const value = BigInt(offset);
  if (value < 0n) throw new StoreArgumentError(storeName, `changelog offset must be >= 0, got ${value}`);
  return value;
}

/**
 * A changelog partition's offsets only grow. A smaller one means the caller mixed up partitions or
 * the changelog topic was recreated; either way writing it would make the next catch-up replay the
 * wrong records, so it is refused.
 */
export function assertNoRegression(storeName: string, current: bigint | undefined, next: bigint): void {
  if (current !== undefined && next < current) {
    throw new StoreCommitProtocolError(storeName, `changelog offset would go backwards: ${current} -> ${next}`);
  }
}

/**
 * Validates a batch and reduces it to one operation per key (Map: key -> value, or null for a
 * delete), which both stores need to apply it and to keep their entry count exact.
 */
export function normalizeBatch<V>(
  storeName: string,
  puts: readonly KeyValue<V>[],
  deletes: readonly string[],
): Map<string, V | null> {
  const ops = new Map<string, V | null>();
  for (const { key, value } of puts) {
    assertValidKey(storeName, key);
    assertValidValue(storeName, key, value);
    ops.set(key, value);
  }
  for (const key of deletes) {
    assertValidKey(storeName, key);
    const existing = ops.get(key);
    if (existing !== undefined && existing !== null) {
      throw new StoreArgumentError(storeName, `key ${JSON.stringify(key)} is both put and deleted in one batch`);
    }
    ops.set(key, null);
  }
  return ops;
}
