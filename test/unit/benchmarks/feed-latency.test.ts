import { describe, expect, it } from 'vitest';
import { UpdateLatency } from '../../../benchmarks/feed-latency.js';

/** Count, min, mean and max of what was recorded, in whole ms (hdr keeps µs to 3 significant digits). */
function recorded(l: UpdateLatency): { count: number; min: number; mean: number; max: number } {
  const h = l.histogram;
  return { count: h.totalCount, min: Math.round(h.minNonZeroValue / 1000), mean: Math.round(h.mean / 1000), max: Math.round(h.maxValue / 1000) };
}

describe('bench feed: publish-to-receipt latency per update', () => {
  it('charges each update a snapshot covers from its own publish time (conflation shows as latency)', () => {
    const l = new UpdateLatency();
    l.published(1, 1000);
    l.published(2, 1030);
    l.published(3, 1060);
    // A client at total 0 gets one snapshot with total 3 at 1100: updates 1, 2 and 3 were waiting 100, 70, 40 ms.
    l.received(0, 3, 1100);
    expect(recorded(l)).toEqual({ count: 3, min: 40, mean: 70, max: 100 });
  });

  it('keeps a receipt that beat the word of its publish time until that word comes', () => {
    const l = new UpdateLatency();
    l.received(0, 1, 1050);
    expect(l.histogram.totalCount).toBe(0);
    expect(l.unmatched).toBe(1);
    l.published(1, 1040);
    expect(recorded(l)).toEqual({ count: 1, min: 10, mean: 10, max: 10 });
    expect(l.unmatched).toBe(0);
  });

  it('counts repeated and backwards snapshots without charging any update twice', () => {
    const l = new UpdateLatency();
    l.published(1, 1000);
    l.published(2, 1000);
    l.received(0, 2, 1020);
    l.received(2, 2, 1030);
    l.received(2, 1, 1040);
    expect(l.histogram.totalCount).toBe(2);
    expect(l.repeated).toBe(1);
    expect(l.outOfOrder).toBe(1);
  });

  it('records a receipt a hair before its publish (two clocks) as 1 µs, not as a negative value', () => {
    const l = new UpdateLatency();
    l.published(1, 1000);
    l.received(0, 1, 999.9995);
    expect(l.histogram.maxValue).toBe(1);
  });
});
