import { describe, expect, it } from 'vitest';
import {
  addSample,
  backoffDelay,
  candidateRows,
  chartBars,
  formatRate,
  formatShare,
  officialResult,
  parseSnapshot,
  rateBuckets,
  recentRate,
  regionTable,
  type Sample,
} from '../../../../voting/page/live-model.js';

const candidates = [
  { id: 'c1', name: 'One' },
  { id: 'c2', name: 'Two' },
];

describe('the live page model (voting/page/live-model.js)', () => {
  it('takes snapshots of its own election only, counts as numbers', () => {
    const text = JSON.stringify({ type: 'snapshot', electionId: 'e1', total: 3, counts: { c1: 2, c2: '1' }, regions: { 'north:c1': 2 }, at: 1000 });
    expect(parseSnapshot(text, 'e1')).toEqual({ electionId: 'e1', total: 3, counts: { c1: 2, c2: 1 }, regions: { 'north:c1': 2 }, at: 1000, official: undefined });
    expect(parseSnapshot(text, 'e2')).toBeNull();
    // Regions nested per region read the same as the flat fields.
    const nested = JSON.stringify({ type: 'snapshot', electionId: 'e1', total: 3, counts: {}, regions: { north: { c1: 2, c2: 1 } }, at: 1000 });
    expect(parseSnapshot(nested, 'e1')?.regions).toEqual({ 'north:c1': 2, 'north:c2': 1 });
    expect(parseSnapshot('{"type":"hello"}', 'e1')).toBeNull();
    expect(parseSnapshot('not json', 'e1')).toBeNull();
    expect(parseSnapshot(JSON.stringify({ type: 'snapshot', electionId: 'e1', counts: {} }), 'e1')).toBeNull();
  });

  it('gives every candidate its count and share in ballot order, then candidates the ballot lacks', () => {
    expect(candidateRows(candidates, { c2: 3, c1: 1, c9: 4 }, 8)).toEqual([
      { id: 'c1', name: 'One', count: 1, share: 0.125 },
      { id: 'c2', name: 'Two', count: 3, share: 0.375 },
      { id: 'c9', name: 'c9', count: 4, share: 0.5 },
    ]);
    expect(candidateRows(candidates, {}, 0).map((r) => r.share)).toEqual([0, 0]);
    expect([formatShare(1 / 3), formatShare(0), formatShare(1), formatShare(0.6667)]).toEqual(['33.3%', '0.0%', '100.0%', '66.7%']);
  });

  it('lays the regions out per region (election order first) and candidate', () => {
    expect(regionTable({ 'south:c2': 2, 'north:c1': 1, 'west:c1': 5 }, ['north', 'south'], ['c1', 'c2'])).toEqual([
      { region: 'north', cells: [1, 0], total: 1 },
      { region: 'south', cells: [0, 2], total: 2 },
      { region: 'west', cells: [5, 0], total: 5 },
    ]);
    expect(regionTable({}, [], ['c1'])).toEqual([]);
  });

  it('computes votes per second from successive totals', () => {
    const h: Sample[] = [];
    const t0 = 1_000_000; // a bucket boundary
    addSample(h, { at: t0, total: 100 });
    // Steady: 10 votes a second for 10 s, a snapshot every second.
    for (let i = 1; i <= 10; i++) addSample(h, { at: t0 + i * 1000, total: 100 + 10 * i });
    const buckets = rateBuckets(h, t0 + 10_000);
    expect(buckets).toHaveLength(60);
    expect(buckets.slice(-2).map((b) => b.rate)).toEqual([10, 10]);
    expect(buckets.slice(0, -2).every((b) => b.rate === 0)).toBe(true);
    expect(recentRate(buckets)).toBe(10);
    // A long silence then one snapshot: its votes fall in the last bucket, not over the silence.
    addSample(h, { at: t0 + 60_000, total: 250 });
    const later = rateBuckets(h, t0 + 60_000);
    expect(later[later.length - 1].rate).toBe(10);
    expect(later[later.length - 2].rate).toBe(0);
    // After a reconnect the votes of the outage are spread over it.
    addSample(h, { at: t0 + 80_000, total: 290 }, { afterReconnect: true });
    const after = rateBuckets(h, t0 + 80_000);
    expect(after.slice(-4).map((b) => b.rate)).toEqual([2, 2, 2, 2]);
  });

  it('starts the history over when the total goes down (counts rebuilt) and forgets what left the window', () => {
    const h: Sample[] = [];
    addSample(h, { at: 0, total: 10 });
    addSample(h, { at: 1000, total: 5 });
    expect(h).toEqual([{ at: 1000, total: 5, delta: 0, span: 0 }]);
    addSample(h, { at: 10 * 60_000, total: 6 });
    expect(h.map((s) => s.at)).toEqual([10 * 60_000]);
  });

  it('scales the chart to its largest bar and formats rates shortly', () => {
    const { max, bars } = chartBars([{ start: 0, rate: 0 }, { start: 1, rate: 5 }, { start: 2, rate: 10 }], 30, 60);
    expect(max).toBe(10);
    expect(bars.map((b) => [b.x, b.y, b.width, b.height])).toEqual([[0, 60, 9, 0], [10, 30, 9, 30], [20, 0, 9, 60]]);
    expect(chartBars([], 30, 60)).toEqual({ max: 0, bars: [] });
    expect([formatRate(0), formatRate(0.44), formatRate(12.4), formatRate(1540)]).toEqual(['0.0', '0.4', '12', '1.5k']);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
    expect(backoffDelay(20, () => 0)).toBe(15_000);
  });

  it('reads the official result with its root', () => {
    expect(officialResult(undefined, candidates)).toBeNull();
    expect(officialResult({ c1: '2', c2: '1', _total: '3', _root: 'abc', _verifiedAt: '5000', _checkpoint: 'note' }, candidates)).toEqual({
      total: 3,
      rows: [
        { id: 'c1', name: 'One', count: 2, share: 2 / 3 },
        { id: 'c2', name: 'Two', count: 1, share: 1 / 3 },
      ],
      root: 'abc',
      checkpoint: 'note',
      verifiedAt: 5000,
    });
    // The same, structured.
    expect(officialResult({ counts: { c1: 2, c2: 1 }, total: 3, root: 'abc', verifiedAt: 5000, checkpoint: 'note' }, candidates)).toEqual(
      officialResult({ c1: '2', c2: '1', _total: '3', _root: 'abc', _verifiedAt: '5000', _checkpoint: 'note' }, candidates),
    );
  });
});
