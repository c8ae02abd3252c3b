import type { RangeOptions } from './key-value-store.js';
import { StoreArgumentError } from './errors.js';

/**
 * The one key order every store and every merge in this folder uses: LevelDB's, i.e. the byte
 * order of the UTF-8 encoded keys, which is Unicode code point order.
 *
 * JavaScript's `<` compares UTF-16 code units instead. The two agree on every key made of code
 * points below U+D800 (all ASCII, Latin, Cyrillic, CJK, ...) and differ only when one key has a
 * code point above U+FFFF (a surrogate pair, e.g. emoji) where the other has one in
 * U+E000..U+FFFF: UTF-16 sorts the pair first, UTF-8 sorts it last. Because the in-memory store,
 * the write buffer's merged range and diffStores all must produce exactly LevelDB's order (a
 * merge on two different orders silently drops or repeats keys), they compare with this function.
 */
export function compareKeys(a: string, b: string): number {
  // Fast path: ordinary comparison is right unless the first difference involves a code unit
  // at or above U+D800.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return fixUp(x) - fixUp(y);
  }
  return a.length - b.length;
}

/** Maps a code unit so that surrogates (0xD800..0xDFFF) sort after 0xE000..0xFFFF, as in UTF-8. */
function fixUp(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

// With the `u` flag a paired surrogate is one code point, so this matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Rejects what LevelDB cannot keep apart: a lone surrogate is encoded as U+FFFD in UTF-8, so two
 * different such keys would silently share one entry. The in-memory store checks too, so that a
 * test run with it rejects exactly what production would.
 */
export function assertValidKey(storeName: string, key: string): void {
  if (typeof key !== 'string') throw new StoreArgumentError(storeName, `keys are strings, got ${typeof key}`);
  if (LONE_SURROGATE.test(key)) throw new StoreArgumentError(storeName, `key ${JSON.stringify(key)} has a lone surrogate`);
}

/**
 * null and undefined are refused as values: in the changelog `null` means "deleted", so a stored
 * null would come back from a restore as a missing key.
 */
export function assertValidValue(storeName: string, key: string, value: unknown): void {
  if (value === null || value === undefined) {
    throw new StoreArgumentError(storeName, `value for key ${JSON.stringify(key)} is ${String(value)}; use delete()`);
  }
}

/** `undefined`/Infinity mean no limit; anything else must be a non-negative integer. */
export function normalizeLimit(storeName: string, limit: number | undefined): number {
  if (limit === undefined || limit === Infinity) return Infinity;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new StoreArgumentError(storeName, `range limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

export function withinBounds(key: string, options: RangeOptions): boolean {
  if (options.gte !== undefined && compareKeys(key, options.gte) < 0) return false;
  if (options.lt !== undefined && compareKeys(key, options.lt) >= 0) return false;
  return true;
}
