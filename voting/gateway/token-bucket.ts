/**
 * Token buckets per key (a voter, a client IP), bounded: at most `maxKeys` buckets live, the least
 * recently refilled going first, so that a flood of distinct keys costs memory only up to the bound
 * (an evicted key starts again with a full bucket, which is the price of the bound).
 */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSec: number;
  /** Bucket size: how many requests may come at once. */
  readonly burst: number;
  readonly maxKeys?: number;
  readonly nowMs?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };

export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    this.#rate = options.ratePerSec;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.nowMs ?? Date.now;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string): TakeResult {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
      // Re-insert: Map order is then least recently used first.
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)) };
  }
}
