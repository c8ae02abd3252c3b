import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { DISTRIBUTION_PERCENTILES, latencySummary } from '../../../benchmarks/run/latency-summary.js';

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
/** hdr keeps 3 significant digits: a value comes back within 0.1% of what was recorded. */
const within = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(want * 0.001);

describe('bench run: latency summary', () => {
  it('reads µs recorded as ms: 1..1000 ms gives p50 500, p99 990, max 1000, mean 500.5', () => {
    const h = histogram();
    for (let ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1000);
    const s = latencySummary(h);
    expect(s.count).toBe(1000);
    within(s.p50, 500);
    within(s.p90, 900);
    within(s.p99, 990);
    within(s.p999, 999);
    expect(s.max).toBe(1000);
    within(s.mean, 500.5);
    expect(s.distribution.map((d) => d.percentile)).toEqual(DISTRIBUTION_PERCENTILES);
    expect(s.distribution[0]).toEqual({ percentile: 0, ms: 1 });
    // The curve ends at the max the table shows, not at the top of the max's hdr bucket (1000.447).
    expect(s.distribution.at(-1)).toEqual({ percentile: 100, ms: 1000 });
    for (let i = 1; i < s.distribution.length; i++) expect(s.distribution[i].ms).toBeGreaterThanOrEqual(s.distribution[i - 1].ms);
  });

  it('samples about 40 points, up to 99.999% and 100, evenly on the 1/(1-p) axis in the tail', () => {
    expect(DISTRIBUTION_PERCENTILES.length).toBeGreaterThanOrEqual(30);
    expect(DISTRIBUTION_PERCENTILES.length).toBeLessThanOrEqual(45);
    for (const p of [0, 10, 50, 90, 95, 99, 99.9, 99.99, 99.999, 100]) expect(DISTRIBUTION_PERCENTILES).toContain(p);
    expect([...DISTRIBUTION_PERCENTILES].sort((a, b) => a - b)).toEqual(DISTRIBUTION_PERCENTILES);
  });

  it('keeps a count given by the caller, and is all zeros with no curve for an empty histogram', () => {
    const h = histogram();
    h.recordValue(2500);
    expect(latencySummary(h, 7).count).toBe(7);
    within(latencySummary(h).p50, 2.5);
    expect(latencySummary(histogram())).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, distribution: [] });
  });
});
