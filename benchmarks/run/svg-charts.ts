import type { LatencySummary, SecondSample } from './run-report.js';

/**
 * The run's charts as hand-written SVG strings (900 x 360): no plotting dependency for three line
 * charts, and the files open in any browser or GitHub's Markdown preview. Every number that reaches
 * the SVG goes through `n()`, so empty or zero data draws an empty chart instead of writing NaN.
 */

const W = 900;
const H = 360;
const PLOT = { left: 78, right: W - 24, top: 60, bottom: H - 48 };
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
// Distinguishable for the common colour blindnesses (Okabe-Ito), in the order series are given.
const COLORS = ['#000000', '#E69F00', '#0072B2', '#009E73', '#D55E00', '#CC79A7', '#56B4E9'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A coordinate as SVG text: finite, 1 decimal. */
function n(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0';
}

interface Tick {
  readonly value: number;
  readonly label: string;
}

interface Axis {
  readonly log: boolean;
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly Tick[];
  readonly title: string;
}

interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color?: string;
  readonly dash?: string;
  /** Dots at each point: for sparse curves (the latency percentiles), where a line alone hides how few points there are. */
  readonly dots?: boolean;
}

interface ChartSpec {
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  /** Shaded x ranges with a label (the warm-up). */
  readonly bands?: ReadonlyArray<{ readonly from: number; readonly to: number; readonly label: string }>;
  /** Said in the middle of the plot when there is nothing to draw. */
  readonly empty?: string;
}

/** 1, 2 or 5 times a power of ten, the smallest at least `x`: tick steps people read at a glance. */
function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** A number with thousands separators, to 6 significant digits: 5,000 or 0.25. */
export function plainNumber(v: number): string {
  return Number(v.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** Compact, for a count in a legend or a tick: 250k, 1.5M (plain below 1,000). */
export function shortNumber(v: number): string {
  const clean = (x: number): string => String(Number(x.toPrecision(6)));
  const a = Math.abs(v);
  if (a >= 1e6) return `${clean(v / 1e6)}M`;
  if (a >= 1e3) return `${clean(v / 1e3)}k`;
  return clean(v);
}

/** A linear axis from 0 to a nice bound above `max`, about 5 ticks. */
function linearAxis(max: number, title: string, label?: (v: number) => string): Axis {
  const top = Number.isFinite(max) && max > 0 ? max : 5;
  // Every linear axis here counts whole things (votes, records, seconds): no 0.2 ticks.
  const step = Math.max(1, niceStep(top / 5));
  const bound = Math.ceil(top / step - 1e-9) * step;
  // One style per axis: "5k, 10k, 15k" or "200, 400", never "5,000" next to "10k".
  label ??= bound >= 1e4 ? shortNumber : plainNumber;
  const ticks: Tick[] = [];
  for (let i = 0; i * step <= bound + step * 1e-9; i++) ticks.push({ value: i * step, label: label(Number((i * step).toPrecision(12))) });
  return { log: false, min: 0, max: bound, ticks, title };
}

/** A log axis over whole decades around [lo, hi], ticks at 1-2-5 when it spans few decades. */
function logAxis(lo: number, hi: number, title: string): Axis {
  const safeLo = Number.isFinite(lo) && lo > 0 ? lo : 1;
  const safeHi = Number.isFinite(hi) && hi > safeLo ? hi : safeLo * 10;
  const from = Math.floor(Math.log10(safeLo) + 1e-9);
  const to = Math.max(from + 1, Math.ceil(Math.log10(safeHi) - 1e-9));
  const mantissas = to - from <= 3 ? [1, 2, 5] : [1];
  const ticks: Tick[] = [];
  for (let d = from; d <= to; d++) {
    for (const m of mantissas) {
      const v = m * 10 ** d;
      if (d === to && m > 1) break;
      ticks.push({ value: v, label: plainNumber(v) });
    }
  }
  return { log: true, min: 10 ** from, max: 10 ** to, ticks, title };
}

function scale(a: Axis, from: number, to: number): (v: number) => number {
  const f = a.log ? (v: number) => Math.log10(Math.max(v, a.min)) : (v: number) => v;
  const lo = f(a.min);
  const span = f(a.max) - lo || 1;
  return (v) => from + ((f(v) - lo) / span) * (to - from);
}

/** Legend entries laid out left to right under the title; text width is estimated (no font metrics in a string). */
function legend(series: readonly Series[]): string {
  let x = PLOT.left;
  const y = 42;
  return series
    .map((s, i) => {
      const color = s.color ?? COLORS[i % COLORS.length];
      const item =
        `<line x1="${n(x)}" y1="${y}" x2="${n(x + 22)}" y2="${y}" stroke="${color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` +
        `<text x="${n(x + 28)}" y="${y + 4}" font-size="12" fill="#222">${escapeXml(s.name)}</text>`;
      x += 28 + s.name.length * 7 + 18;
      return item;
    })
    .join('');
}

function chart(spec: ChartSpec): string {
  const sx = scale(spec.x, PLOT.left, PLOT.right);
  const sy = scale(spec.y, PLOT.bottom, PLOT.top);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${PLOT.left}" y="22" font-size="15" font-weight="600" fill="#111">${escapeXml(spec.title)}</text>`);

  for (const b of spec.bands ?? []) {
    const x1 = Math.max(PLOT.left, sx(b.from));
    const x2 = Math.min(PLOT.right, sx(b.to));
    if (!(x2 > x1)) continue;
    out.push(`<rect x="${n(x1)}" y="${PLOT.top}" width="${n(x2 - x1)}" height="${PLOT.bottom - PLOT.top}" fill="#eeeeee"/>`);
    out.push(`<text x="${n((x1 + x2) / 2)}" y="${PLOT.top + 14}" font-size="11" fill="#666" text-anchor="middle">${escapeXml(b.label)}</text>`);
  }

  // Grid and tick labels.
  const grid: string[] = [];
  for (const t of spec.y.ticks) {
    const y = sy(t.value);
    grid.push(`<line x1="${PLOT.left}" y1="${n(y)}" x2="${PLOT.right}" y2="${n(y)}" stroke="#e2e2e2" stroke-width="1"/>`);
    grid.push(`<text x="${PLOT.left - 6}" y="${n(y + 4)}" font-size="11" fill="#333" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  for (const t of spec.x.ticks) {
    const x = sx(t.value);
    grid.push(`<line x1="${n(x)}" y1="${PLOT.top}" x2="${n(x)}" y2="${PLOT.bottom}" stroke="#e2e2e2" stroke-width="1"/>`);
    grid.push(`<text x="${n(x)}" y="${PLOT.bottom + 16}" font-size="11" fill="#333" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push(`<g>${grid.join('')}</g>`);
  out.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#888" stroke-width="1"/>`);
  out.push(`<text x="${n((PLOT.left + PLOT.right) / 2)}" y="${H - 10}" font-size="12" fill="#222" text-anchor="middle">${escapeXml(spec.x.title)}</text>`);
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  out.push(`<text x="18" y="${n(yMid)}" font-size="12" fill="#222" text-anchor="middle" transform="rotate(-90 18 ${n(yMid)})">${escapeXml(spec.y.title)}</text>`);

  // Series, clipped to the plot so a value beyond an axis bound cannot draw over the labels.
  out.push(`<defs><clipPath id="plot"><rect x="${PLOT.left}" y="${PLOT.top - 4}" width="${PLOT.right - PLOT.left + 4}" height="${PLOT.bottom - PLOT.top + 8}"/></clipPath></defs>`);
  out.push('<g clip-path="url(#plot)">');
  spec.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return;
    const coords = pts.map(([x, y]) => `${n(sx(x))},${n(sy(y))}`).join(' ');
    out.push(`<polyline points="${coords}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${escapeXml(s.name)}</title></polyline>`);
    if (s.dots === true) for (const [x, y] of pts) out.push(`<circle cx="${n(sx(x))}" cy="${n(sy(y))}" r="2.2" fill="${color}"/>`);
  });
  out.push('</g>');
  if (spec.empty !== undefined) {
    out.push(`<text x="${n((PLOT.left + PLOT.right) / 2)}" y="${n(yMid)}" font-size="14" fill="#888" text-anchor="middle">${escapeXml(spec.empty)}</text>`);
  }
  out.push(legend(spec.series));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function timeAxis(seconds: readonly SecondSample[]): Axis {
  const last = seconds.reduce((m, s) => Math.max(m, Number.isFinite(s.t) ? s.t : 0), 0);
  return linearAxis(last, 'time since the first vote was due (s)', (v) => String(v));
}

function peak(seconds: readonly SecondSample[], f: (s: SecondSample) => number): number {
  return seconds.reduce((m, s) => Math.max(m, Number.isFinite(f(s)) ? f(s) : 0), 0);
}

function warmupBand(warmupS: number | undefined): ChartSpec['bands'] {
  return warmupS !== undefined && warmupS > 0 ? [{ from: 0, to: warmupS, label: 'warm-up' }] : [];
}

export interface TimeChartOptions {
  /** Shades the first seconds, which the headline figures leave out. */
  readonly warmupS?: number;
}

/** Votes per second over the run: what the schedule offered, what was acknowledged, and what each stage committed. */
export function throughputChart(seconds: readonly SecondSample[], o: TimeChartOptions = {}): string {
  const fields = [
    { name: 'offered', f: (s: SecondSample) => s.offered, dash: '6 4' },
    { name: 'acknowledged', f: (s: SecondSample) => s.acknowledged },
    { name: 'dedup', f: (s: SecondSample) => s.dedup },
    { name: 'count', f: (s: SecondSample) => s.count },
    { name: 'persist', f: (s: SecondSample) => s.persist },
  ];
  const top = Math.max(...fields.map((x) => peak(seconds, x.f)));
  return chart({
    title: 'Throughput per second: offered, acknowledged, committed by each stage',
    x: timeAxis(seconds),
    y: linearAxis(top, 'votes / s'),
    series: fields.map((x) => ({ name: x.name, dash: x.dash, points: seconds.map((s) => [s.t, x.f(s)] as const) })),
    bands: warmupBand(o.warmupS),
    empty: seconds.length === 0 ? 'no samples' : undefined,
  });
}

/** Consumer lag of each group at the end of each second. */
export function lagChart(seconds: readonly SecondSample[], o: TimeChartOptions = {}): string {
  const fields = [
    { name: 'dedup lag', f: (s: SecondSample) => s.lag.dedup },
    { name: 'count lag', f: (s: SecondSample) => s.lag.count },
    { name: 'persist lag', f: (s: SecondSample) => s.lag.persist },
  ];
  const top = Math.max(...fields.map((x) => peak(seconds, x.f)));
  return chart({
    title: 'Consumer lag per group (records not yet committed)',
    x: timeAxis(seconds),
    y: linearAxis(top, 'lag (records)'),
    // Same colours as the stages in the throughput chart, so one stage reads the same in both.
    series: fields.map((x, i) => ({ name: x.name, color: COLORS[i + 2], points: seconds.map((s) => [s.t, x.f(s)] as const) })),
    bands: warmupBand(o.warmupS),
    empty: seconds.length === 0 ? 'no samples' : undefined,
  });
}

/** Percentile p (0..100) as HdrHistogram's plotter places it: 1/(1-p), so each extra 9 is one decade. */
function oneOver(p: number): number {
  return 1 / (1 - p / 100);
}

const PERCENTILE_LABELS: ReadonlyArray<readonly [number, string]> = [
  [0, '0%'],
  [50, '50%'],
  [90, '90%'],
  [99, '99%'],
  [99.9, '99.9%'],
  [99.99, '99.99%'],
  [99.999, '99.999%'],
];

/**
 * Latency by percentile, both axes log: x is 1/(1-p) (labelled 50%, 90%, 99%, ...), y is ms. The
 * x axis reaches as many nines as the largest count resolves (at least 99%, at most 99.999%); the
 * max (p100, infinite on that axis) gets its own slot half a decade further right.
 */
export function latencyChart(toRedis: LatencySummary, toFeed: LatencySummary, ack?: LatencySummary): string {
  const curves = [
    // Short names: three must fit one legend row (the title says what is measured).
    { name: 'to Redis', s: toRedis },
    { name: 'to feed', s: toFeed },
    ...(ack ? [{ name: 'to ack', s: ack }] : []),
  ];
  const maxCount = Math.max(0, ...curves.map((c) => (Number.isFinite(c.s.count) ? c.s.count : 0)));
  const decades = Math.min(5, Math.max(2, Math.ceil(Math.log10(Math.max(10, maxCount)) - 1e-9)));
  const finiteEnd = 10 ** decades;
  const maxX = 10 ** (decades + 0.5);

  const series: Series[] = curves.map((c) => ({
    name: c.s.count > 0 ? `${c.name} (${shortNumber(c.s.count)} votes)` : `${c.name} (no votes)`,
    dots: true,
    points: c.s.distribution
      .filter((d) => Number.isFinite(d.ms) && Number.isFinite(d.percentile) && d.percentile >= 0 && d.percentile <= 100)
      .map((d) => [d.percentile >= 100 ? maxX : oneOver(d.percentile), d.ms] as const)
      .filter(([x]) => x <= finiteEnd * (1 + 1e-9) || x === maxX),
  }));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
  const y = logAxis(ys.length > 0 ? Math.min(...ys) : 0.1, ys.length > 0 ? Math.max(...ys) : 1000, 'latency (ms, log scale)');
  // A 0 ms point (below the µs resolution) sits on the axis floor rather than vanishing.
  const floored = series.map((s) => ({ ...s, points: s.points.map(([px, py]) => [px, Math.max(py, y.min)] as const) }));

  const ticks: Tick[] = PERCENTILE_LABELS.filter(([p]) => oneOver(p) <= finiteEnd * (1 + 1e-9)).map(([p, label]) => ({ value: oneOver(p), label }));
  ticks.push({ value: maxX, label: 'max' });
  return chart({
    title: 'Latency from the time a vote was due, by percentile (votes due after the warm-up)',
    x: { log: true, min: 1, max: maxX, ticks, title: 'percentile (log scale of 1/(1-p): each step right is one more nine)' },
    y,
    series: floored,
    empty: ys.length === 0 ? 'no latencies recorded' : undefined,
  });
}
