import { describe, expect, it } from 'vitest';
import type { LatencySummary, SecondSample } from '../../../benchmarks/run/run-report.js';
import { escapeXml, lagChart, latencyChart, throughputChart } from '../../../benchmarks/run/svg-charts.js';
import { sampleLatency, sampleReport } from './run-sample-report.js';

/** Well-formed enough: one <svg> root, every element closed in order, no number that failed to compute. */
function expectSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined|Infinity|null/);
  const open: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') expect(open.pop()).toBe(name);
    else open.push(name);
  }
  expect(open).toEqual([]);
  // Text content holds no raw markup characters (escaped or none).
  for (const m of svg.matchAll(/>([^<]*)</g)) expect(m[1]).not.toMatch(/[<>]|&(?!amp;|lt;|gt;|quot;|#39;)/);
}

const empty: LatencySummary = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, distribution: [] };
const zeroSecond = (t: number): SecondSample => ({ t, offered: 0, sent: 0, acknowledged: 0, failed: 0, dedup: 0, count: 0, persist: 0, lag: { dedup: 0, count: 0, persist: 0 }, redisTotal: 0, feedTotal: 0 });

describe('bench run: SVG charts', () => {
  const r = sampleReport();

  it('draws throughput with a series per rate, axes, units and the warm-up', () => {
    const svg = throughputChart(r.seconds, { warmupS: 10 });
    expectSvg(svg);
    for (const name of ['offered', 'acknowledged', 'dedup', 'count', 'persist', 'votes / s', 'time since the first vote was due (s)', 'warm-up']) expect(svg).toContain(name);
    expect(svg.match(/<polyline /g)).toHaveLength(5);
  });

  it('draws the lag of each group', () => {
    const svg = lagChart(r.seconds);
    expectSvg(svg);
    for (const name of ['dedup lag', 'count lag', 'persist lag', 'lag (records)']) expect(svg).toContain(name);
    expect(svg).toContain('>800k<');
  });

  it('draws latency by percentile on a 1/(1-p) axis labelled in nines, up to what the count resolves', () => {
    const svg = latencyChart(r.latency.toRedis, r.latency.toFeed, r.generator.ackLatency);
    expectSvg(svg);
    for (const name of ['to Redis (200k votes)', 'to feed (200k votes)', 'to ack (200k votes)', '>50%<', '>90%<', '>99%<', '>99.9%<', '>99.99%<', '>99.999%<', '>max<', 'latency (ms, log scale)']) {
      expect(svg).toContain(name);
    }
    // 1,000 votes resolve three nines: no 99.99% tick.
    const small = latencyChart(sampleLatency(1, 1000, 10), sampleLatency(2, 1000, 20));
    expectSvg(small);
    expect(small).toContain('>99.9%<');
    expect(small).not.toContain('>99.99%<');
    expect(small.match(/<polyline /g)).toHaveLength(2);
  });

  it('draws empty, all-zero and broken data without NaN', () => {
    for (const svg of [throughputChart([]), lagChart([]), latencyChart(empty, empty), latencyChart(empty, empty, empty), throughputChart([zeroSecond(1), zeroSecond(2)]), lagChart([zeroSecond(1)], { warmupS: 5 })]) {
      expectSvg(svg);
    }
    expect(throughputChart([])).toContain('no samples');
    expect(latencyChart(empty, empty)).toContain('no latencies recorded');
    const broken: SecondSample = { ...zeroSecond(Number.NaN), offered: Number.POSITIVE_INFINITY, dedup: Number.NaN };
    expectSvg(throughputChart([broken, zeroSecond(2)]));
    expectSvg(latencyChart({ ...empty, count: 3, distribution: [{ percentile: 50, ms: Number.NaN }, { percentile: 100, ms: 0 }] }, empty));
  });

  it('escapes text', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;');
  });
});
