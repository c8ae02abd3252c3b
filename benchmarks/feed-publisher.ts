/**
 * The bench's stand-in for the count sink: per update, one vote added to the election's counts and
 * regions in one MULTI (as the count script applies a batch atomically), then a PUBLISH on
 * `vs:{E}:updates`, on an open-loop schedule. Update n leaves `_total` at n, which is how a client
 * tells which updates a snapshot covers (benchmarks/feed-latency.ts).
 */
import type { Redis } from 'ioredis';
import { countsKey, regionField, regionsKey, TOTAL_FIELD, updatesChannel } from '../voting/redis-keys.js';
import { preciseNowMs } from './feed-latency.js';

export const BENCH_CANDIDATES = ['c1', 'c2', 'c3', 'c4'] as const;
export const BENCH_REGIONS = ['north', 'south', 'east'] as const;

export interface PublishOptions {
  readonly redis: Redis;
  readonly electionId: string;
  readonly prefix: string;
  readonly rate: number;
  readonly durationS: number;
  /** Update `total` was published at `atMs` (preciseNowMs), right before its PUBLISH went out. */
  readonly onPublished: (total: number, atMs: number) => void;
  /** Stop early (e.g. the feed died). */
  readonly stopped?: () => boolean;
}

export interface PublishResult {
  readonly published: number;
  readonly elapsedS: number;
  /** How far behind its schedule the latest update went out, at worst (ms): a busy bench shows here. */
  readonly maxLagMs: number;
}

/** Zero counts for every candidate and region, so the first snapshot has the full shape. */
export async function resetCounts(redis: Redis, electionId: string, prefix: string): Promise<void> {
  const counts: Record<string, number> = { [TOTAL_FIELD]: 0 };
  const regions: Record<string, number> = {};
  for (const c of BENCH_CANDIDATES) {
    counts[c] = 0;
    for (const r of BENCH_REGIONS) regions[regionField(r, c)] = 0;
  }
  await redis.multi().del(countsKey(electionId, prefix), regionsKey(electionId, prefix)).hset(countsKey(electionId, prefix), counts).hset(regionsKey(electionId, prefix), regions).exec();
}

export async function dropCounts(redis: Redis, electionId: string, prefix: string): Promise<void> {
  await redis.del(countsKey(electionId, prefix), regionsKey(electionId, prefix));
}

export async function publishUpdates(o: PublishOptions): Promise<PublishResult> {
  const total = Math.round(o.rate * o.durationS);
  const counts = countsKey(o.electionId, o.prefix);
  const regions = regionsKey(o.electionId, o.prefix);
  const channel = updatesChannel(o.electionId, o.prefix);
  const start = performance.now();
  let maxLagMs = 0;
  let n = 0;
  while (n < total && !(o.stopped?.() ?? false)) {
    const due = start + (n * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    maxLagMs = Math.max(maxLagMs, performance.now() - due);
    n++;
    const candidate = BENCH_CANDIDATES[n % BENCH_CANDIDATES.length];
    const region = BENCH_REGIONS[n % BENCH_REGIONS.length];
    await o.redis.multi().hincrby(counts, TOTAL_FIELD, 1).hincrby(counts, candidate, 1).hincrby(regions, regionField(region, candidate), 1).exec();
    const atMs = preciseNowMs();
    await o.redis.publish(channel, JSON.stringify({ electionId: o.electionId, total: n }));
    o.onPublished(n, atMs);
  }
  // The schedule spans n/rate seconds (the last update is due at (n-1)/rate): per-second figures over less would overstate them.
  return { published: n, elapsedS: Math.max(n / o.rate, (performance.now() - start) / 1000), maxLagMs: Math.round(maxLagMs * 10) / 10 };
}
