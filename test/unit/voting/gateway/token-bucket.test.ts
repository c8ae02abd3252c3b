import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../../voting/gateway/token-bucket.js';

describe('TokenBuckets', () => {
  it('lets a burst through, then one request per 1/rate seconds, with the wait as Retry-After', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSec: 2, burst: 3, nowMs: () => now });
    expect([1, 2, 3, 4].map(() => buckets.take('v').ok)).toEqual([true, true, true, false]);
    expect(buckets.take('v')).toEqual({ ok: false, retryAfterSec: 1 });
    now += 500;
    expect(buckets.take('v').ok).toBe(true);
    expect(buckets.take('v').ok).toBe(false);
    // Keys are independent.
    expect(buckets.take('w').ok).toBe(true);
  });

  it('a slow rate gives a Retry-After of the whole wait, rounded up', () => {
    const buckets = new TokenBuckets({ ratePerSec: 0.1, burst: 1, nowMs: () => 0 });
    expect(buckets.take('v').ok).toBe(true);
    expect(buckets.take('v')).toEqual({ ok: false, retryAfterSec: 10 });
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const buckets = new TokenBuckets({ ratePerSec: 1, burst: 1, maxKeys: 2, nowMs: () => 0 });
    buckets.take('a');
    buckets.take('b');
    buckets.take('a');
    buckets.take('c');
    expect(buckets.size).toBe(2);
    // 'a' was used more recently than 'b', so it was kept (still empty); 'b' was evicted and starts full.
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });
});
