/**
 * When did a vote arrive (in Redis, or in a feed snapshot)? The sinks count votes, they do not name
 * them, so arrival is told by the total: the k-th counted vote (in schedule order) is taken to have
 * arrived when the observed total first reached k. Its latency runs from its intended send time
 * (the schedule's, not the actual send: no coordinated omission) to that moment.
 *
 * This is exact when votes are applied in the order they were due, and otherwise charges a late
 * vote to an earlier one that overtook it: the distribution is kept, a single straggler can hide.
 * Observations are taken every few milliseconds, which bounds the resolution.
 */
import * as hdr from 'hdr-histogram-js';

/** An observed total at an instant (epoch ms). */
export interface TotalSample {
  readonly atMs: number;
  readonly total: number;
}

/** Records observed totals, keeping only the changes. */
export class TotalTrace {
  readonly #samples: TotalSample[] = [];
  #last = -1;

  observe(atMs: number, total: number): void {
    if (total <= this.#last) return;
    this.#last = total;
    this.#samples.push({ atMs, total });
  }

  get latest(): number {
    return Math.max(0, this.#last);
  }

  samples(): readonly TotalSample[] {
    return this.#samples;
  }
}

export function newLatencyHistogram(): hdr.Histogram {
  // Microseconds, up to an hour: a run that falls that far behind is still charged, not clipped.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Latencies (µs) of the counted votes due at or after `fromMs`, matched against the trace.
 * `dueMs` holds the intended send times (epoch ms) of the votes that will be counted, sorted.
 * Votes the trace never reached are returned as `missing` (not in the histogram).
 */
export function arrivalLatencies(trace: readonly TotalSample[], dueMs: Float64Array, fromMs: number): { histogram: hdr.Histogram; matched: number; missing: number } {
  const histogram = newLatencyHistogram();
  let k = 0;
  let matched = 0;
  for (const s of trace) {
    const upTo = Math.min(s.total, dueMs.length);
    for (; k < upTo; k++) {
      if (dueMs[k] < fromMs) continue;
      histogram.recordValue(Math.max(1, Math.round((s.atMs - dueMs[k]) * 1000)));
      matched++;
    }
  }
  let missing = 0;
  for (; k < dueMs.length; k++) if (dueMs[k] >= fromMs) missing++;
  return { histogram, matched, missing };
}
