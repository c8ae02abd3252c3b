import * as hdr from 'hdr-histogram-js';

/** Latencies are kept in microseconds, up to two minutes. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Latency of every update from its Redis PUBLISH to the first snapshot a client received that
 * covers it. The bench makes update n set the counts' `_total` to n, so a snapshot with total n
 * after one with total m covers updates m+1..n: each is charged from its own publish time, so
 * conflation (several updates in one snapshot) shows as latency instead of being hidden. A
 * snapshot may arrive before the parent's word of when its update was published: it waits here.
 */
export class UpdateLatency {
  readonly histogram = latencyHistogram();
  readonly #publishedAt = new Map<number, number>();
  /** total -> receipt times waiting for that update's publish time. */
  readonly #waiting = new Map<number, number[]>();
  outOfOrder = 0;
  repeated = 0;

  /** The update that made the total `total` was published at `atMs`. */
  published(total: number, atMs: number): void {
    this.#publishedAt.set(total, atMs);
    const receipts = this.#waiting.get(total);
    if (receipts === undefined) return;
    this.#waiting.delete(total);
    for (const r of receipts) this.#record(r - atMs);
  }

  /** A client whose previous snapshot had `previousTotal` received one with `total` at `atMs`. */
  received(previousTotal: number, total: number, atMs: number): void {
    if (total < previousTotal) this.outOfOrder++;
    if (total === previousTotal) this.repeated++;
    for (let n = previousTotal + 1; n <= total; n++) {
      const publishedAt = this.#publishedAt.get(n);
      if (publishedAt !== undefined) this.#record(atMs - publishedAt);
      else {
        const list = this.#waiting.get(n);
        if (list === undefined) this.#waiting.set(n, [atMs]);
        else list.push(atMs);
      }
    }
  }

  /** Receipts of updates whose publish time never came. */
  get unmatched(): number {
    let n = 0;
    for (const list of this.#waiting.values()) n += list.length;
    return n;
  }

  #record(ms: number): void {
    // Two clocks of one machine: a receipt "before" its publish is rounding, not time travel.
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }
}

/** Epoch milliseconds with a fraction, comparable across the processes of one machine. */
export const preciseNowMs = (): number => performance.timeOrigin + performance.now();
