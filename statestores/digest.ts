import { createHash } from 'node:crypto';
import type { KeyValue, KeyValueStore } from './key-value-store.js';
import { StoreArgumentError } from './errors.js';
import { compareKeys } from './key-order.js';
import { jsonCodec, type ValueCodec } from './value-codec.js';

/**
 * Comparing two stores (`votestream rebuild store` checks a store rebuilt from the changelog
 * against the live one). Both functions stream the stores in key order and never hold more than
 * one entry of each, so they work on stores of any size.
 */

export interface StoreDigest {
  readonly entries: number;
  /** Hex sha256 over all entries in key order; equal content gives equal digests across store kinds. */
  readonly sha256: string;
}

/**
 * Each entry is hashed as len(key) key len(value) value (lengths as 4-byte big-endian, key in
 * UTF-8, value through the codec), so that no two different entry lists can produce the same
 * byte stream. Values are compared by their encoding: for JSON that includes property order.
 */
export async function storeDigest<V>(store: KeyValueStore<V>, codec: ValueCodec<V> = jsonCodec<V>()): Promise<StoreDigest> {
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  let entries = 0;
  for await (const { key, value } of store.range()) {
    const keyBytes = Buffer.from(key, 'utf8');
    const valueBytes = codec.encode(value);
    length.writeUInt32BE(keyBytes.length);
    hash.update(length);
    hash.update(keyBytes);
    length.writeUInt32BE(valueBytes.length);
    hash.update(length);
    hash.update(valueBytes);
    entries++;
  }
  return { entries, sha256: hash.digest('hex') };
}

export type StoreDifference<V> =
  | { readonly key: string; readonly kind: 'missing-in-a'; readonly b: V }
  | { readonly key: string; readonly kind: 'missing-in-b'; readonly a: V }
  | { readonly key: string; readonly kind: 'value-differs'; readonly a: V; readonly b: V };

export interface StoreDiff<V> {
  /** The first `limit` differences in key order. */
  readonly differences: StoreDifference<V>[];
  /** True when there are more differences than `limit`. */
  readonly truncated: boolean;
}

/** Keys whose presence or value differs between `a` and `b`, found by one merge pass over both. */
export async function diffStores<V>(
  a: KeyValueStore<V>,
  b: KeyValueStore<V>,
  limit = 100,
  codec: ValueCodec<V> = jsonCodec<V>(),
): Promise<StoreDiff<V>> {
  if (!Number.isInteger(limit) || limit < 0) throw new StoreArgumentError(a.name, `diff limit must be a non-negative integer, got ${limit}`);
  const differences: StoreDifference<V>[] = [];
  const left = a.range()[Symbol.asyncIterator]();
  const right = b.range()[Symbol.asyncIterator]();
  const sameValue = (x: V, y: V): boolean => Buffer.from(codec.encode(x)).equals(Buffer.from(codec.encode(y)));
  try {
    let l = await left.next();
    let r = await right.next();
    // One difference past the limit tells whether the list is complete.
    while (differences.length <= limit && !(l.done && r.done)) {
      const order = l.done ? 1 : r.done ? -1 : compareKeys(l.value.key, r.value.key);
      if (order < 0) {
        const entry = l.value as KeyValue<V>;
        differences.push({ key: entry.key, kind: 'missing-in-b', a: entry.value });
        l = await left.next();
      } else if (order > 0) {
        const entry = r.value as KeyValue<V>;
        differences.push({ key: entry.key, kind: 'missing-in-a', b: entry.value });
        r = await right.next();
      } else {
        const x = l.value as KeyValue<V>;
        const y = r.value as KeyValue<V>;
        if (!sameValue(x.value, y.value)) differences.push({ key: x.key, kind: 'value-differs', a: x.value, b: y.value });
        l = await left.next();
        r = await right.next();
      }
    }
  } finally {
    await Promise.all([left.return?.(), right.return?.()]);
  }
  const truncated = differences.length > limit;
  return { differences: differences.slice(0, limit), truncated };
}
