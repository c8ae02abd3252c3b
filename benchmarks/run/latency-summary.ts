import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from './run-report.js';

/**
 * The percentiles the distribution is sampled at: every 10% of the body (where a linear reading is
 * natural), then evenly on the log "1/(1-p)" axis up to 99.999% (four points per decade, as
 * HdrHistogram's plotter spaces them), plus the round figures people quote, then 100 (the max).
 * Fixed points rather than hdr's percentile iteration: two runs' curves then share their x values,
 * and the wasm and JS histograms (which iterate differently) give the same shape of output.
 */
export const DISTRIBUTION_PERCENTILES: readonly number[] = (() => {
  const ps = new Set<number>([0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100]);
  for (let decades = 0.25; decades <= 5 + 1e-9; decades += 0.25) ps.add(Number((100 - 100 / 10 ** decades).toFixed(4)));
  return [...ps].sort((a, b) => a - b);
})();

// Values are recorded in µs; the report speaks ms, to the µs (hdr keeps 3 significant digits anyway).
const ms = (us: number): number => (Number.isFinite(us) ? Math.round(us) / 1000 : 0);

/**
 * A latency histogram (recorded in MICROseconds) as the report's summary in milliseconds.
 * `count` is what the figure is over; it defaults to the histogram's total, and is there for a
 * caller whose histogram counts something other than votes (e.g. one record per batch).
 * An empty histogram gives all zeros and an empty distribution, so charts draw nothing rather than NaN.
 */
export function latencySummary(h: Histogram, count?: number): LatencySummary {
  const total = h.totalCount;
  if (total === 0) return { count: count ?? 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, distribution: [] };
  // hdr answers a percentile with the top of its value's bucket (1000 ms recorded reads 1000.447 at
  // p100), while maxValue is the value itself to 3 digits. Capping at the max keeps the curve
  // monotonic and no percentile above the max the table shows.
  const max = ms(h.maxValue);
  const at = (p: number): number => Math.min(max, ms(h.getValueAtPercentile(p)));
  return {
    count: count ?? total,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max,
    mean: ms(h.mean),
    distribution: DISTRIBUTION_PERCENTILES.map((percentile) => ({ percentile, ms: at(percentile) })),
  };
}
