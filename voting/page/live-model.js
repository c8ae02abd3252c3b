// The live page's arithmetic, free of the DOM so that Node tests can import it.
// Snapshot format: DESIGN section 3, {"type":"snapshot","electionId","total","counts","regions","at","official"?}.

/** A snapshot of this election from a message's text, or null for anything else. */
export function parseSnapshot(text, electionId) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (m === null || typeof m !== 'object' || m.type !== 'snapshot' || m.electionId !== electionId) return null;
  if (!Number.isFinite(m.total) || !Number.isFinite(m.at)) return null;
  const counts = numbers(m.counts);
  const regions = flatRegions(m.regions);
  const official = m.official !== null && typeof m.official === 'object' ? m.official : undefined;
  return { electionId, total: m.total, counts, regions, at: m.at, official };
}

// Regions come flat ({"north:c1": 2}, DESIGN section 3) or nested ({"north": {"c1": 2}}): both end flat.
function flatRegions(o) {
  const out = numbers(o);
  if (o === null || typeof o !== 'object') return out;
  for (const [region, inner] of Object.entries(o)) {
    if (inner === null || typeof inner !== 'object') continue;
    for (const [id, n] of Object.entries(numbers(inner))) out[`${region}:${id}`] = n;
  }
  return out;
}

function numbers(o) {
  const out = {};
  if (o === null || typeof o !== 'object') return out;
  for (const [k, v] of Object.entries(o)) {
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/**
 * One row per candidate, in ballot order (rows do not jump around as counts change), then any
 * candidate the counts know and the ballot does not. share is count / total, 0 when nothing is counted.
 */
export function candidateRows(candidates, counts, total) {
  const rows = candidates.map((c) => ({ id: c.id, name: c.name, count: counts[c.id] ?? 0 }));
  for (const id of Object.keys(counts)) if (!id.startsWith('_') && !candidates.some((c) => c.id === id)) rows.push({ id, name: id, count: counts[id] });
  return rows.map((r) => ({ ...r, share: total > 0 ? r.count / total : 0 }));
}

/** "42.9%"; one decimal, so that close races stay readable. */
export function formatShare(share) {
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** "1,234" in the page's locale. */
export function formatCount(n, locale) {
  return new Intl.NumberFormat(locale).format(n);
}

/**
 * The regions breakdown as a table: one row per region (the election's own order, then unknown
 * ones), one cell per candidate, and the region's total. Fields are "<region>:<candidateId>"; ids
 * cannot contain ":" (DESIGN section 3), so the last ":" splits them.
 */
export function regionTable(regions, electionRegions, candidateIds) {
  const byRegion = new Map(electionRegions.map((r) => [r, {}]));
  for (const [field, n] of Object.entries(regions)) {
    const i = field.lastIndexOf(':');
    if (i <= 0) continue;
    const region = field.slice(0, i);
    if (!byRegion.has(region)) byRegion.set(region, {});
    byRegion.get(region)[field.slice(i + 1)] = n;
  }
  return [...byRegion].map(([region, counts]) => ({
    region,
    cells: candidateIds.map((id) => counts[id] ?? 0),
    total: Object.values(counts).reduce((a, b) => a + b, 0),
  }));
}

/** How long the rate chart looks back, and the width of one of its bars. */
export const RATE_WINDOW_MS = 5 * 60_000;
export const RATE_BUCKET_MS = 5_000;

/**
 * Votes per second from successive totals. history is a list of {at, total, gap} kept by
 * addSample: each new total's increase is spread over the time it may have happened in, which is
 * the last bucket when snapshots come steadily (the feed sends one only when something changed, so
 * a long silence means nothing happened), or the whole silence after a reconnect (the votes of the
 * outage came at unknown times).
 */
export function addSample(history, sample, { afterReconnect = false, windowMs = RATE_WINDOW_MS, bucketMs = RATE_BUCKET_MS } = {}) {
  const last = history[history.length - 1];
  if (last !== undefined && (sample.total < last.total || sample.at < last.at)) history.length = 0; // counts were rebuilt or the clock went back: start over
  const prev = history[history.length - 1];
  const delta = prev === undefined ? 0 : sample.total - prev.total;
  const span = prev === undefined ? 0 : afterReconnect ? sample.at - prev.at : Math.min(sample.at - prev.at, bucketMs);
  history.push({ at: sample.at, total: sample.total, delta, span });
  while (history.length > 1 && history[0].at < sample.at - windowMs - bucketMs) history.shift();
  return history;
}

/** The chart's bars: votes per second in each bucket of the window ending at nowMs, oldest first. */
export function rateBuckets(history, nowMs, { windowMs = RATE_WINDOW_MS, bucketMs = RATE_BUCKET_MS } = {}) {
  const n = Math.round(windowMs / bucketMs);
  const end = Math.ceil(nowMs / bucketMs) * bucketMs;
  const start = end - n * bucketMs;
  const votes = new Array(n).fill(0);
  for (const s of history) {
    if (s.delta <= 0) continue;
    const from = s.at - s.span;
    if (s.span <= 0) {
      const i = Math.floor((s.at - start) / bucketMs);
      if (i >= 0 && i < n) votes[i] += s.delta;
      continue;
    }
    // Spread evenly over [from, at]: each bucket gets the part of the span it overlaps.
    for (let i = Math.max(0, Math.floor((from - start) / bucketMs)); i < n && start + i * bucketMs < s.at; i++) {
      const lo = Math.max(from, start + i * bucketMs);
      const hi = Math.min(s.at, start + (i + 1) * bucketMs);
      if (hi > lo) votes[i] += (s.delta * (hi - lo)) / s.span;
    }
  }
  return votes.map((v, i) => ({ start: start + i * bucketMs, rate: v / (bucketMs / 1000) }));
}

/** Votes per second over the last `overMs` (default the last 10 s), from the buckets. */
export function recentRate(buckets, overMs = 10_000, bucketMs = RATE_BUCKET_MS) {
  const k = Math.max(1, Math.round(overMs / bucketMs));
  const last = buckets.slice(-k);
  return last.length === 0 ? 0 : last.reduce((a, b) => a + b.rate, 0) / last.length;
}

/** "0.4", "12", "1.2k": short enough for the chart's label. */
export function formatRate(rate) {
  if (rate >= 1000) return `${(rate / 1000).toFixed(1)}k`;
  if (rate >= 10) return String(Math.round(rate));
  return rate.toFixed(1);
}

/** SVG bars (x, y, width, height) for the buckets in a width x height box; the top is the largest rate. */
export function chartBars(buckets, width, height) {
  const max = Math.max(...buckets.map((b) => b.rate), 0);
  const w = width / Math.max(1, buckets.length);
  return {
    max,
    bars: buckets.map((b, i) => {
      const h = max > 0 ? (b.rate / max) * height : 0;
      return { x: i * w, y: height - h, width: Math.max(0, w - 1), height: h };
    }),
  };
}

/**
 * Reconnection delay: exponential from baseMs, capped at maxMs, with "equal jitter" (half fixed,
 * half random) so that a feed restart is not met by every page at the same instant.
 */
export function backoffDelay(attempt, random = Math.random, { baseMs = 500, maxMs = 30_000 } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Whether an election takes votes at nowMs, and the word for it. */
export function windowState(election, nowMs) {
  if (nowMs < election.opensAt) return 'not open yet';
  if (nowMs >= election.closesAt) return 'closed';
  return 'open';
}

/**
 * The official result out of the snapshot's `official`: either the Redis hash of DESIGN section 3
 * as it is (candidate -> count, `_total`, `_verifiedAt`, `_root`, `_checkpoint`) or the same
 * structured ({counts, total, verifiedAt, root, checkpoint}); values as numbers.
 */
export function officialResult(official, candidates) {
  if (official === undefined || official === null) return null;
  const structured = official.counts !== null && typeof official.counts === 'object';
  const field = (name) => (structured ? official[name] : official[`_${name}`]);
  const counts = {};
  for (const [k, v] of Object.entries(structured ? official.counts : official)) if (!k.startsWith('_')) counts[k] = Number(v);
  const total = field('total') !== undefined ? Number(field('total')) : Object.values(counts).reduce((a, b) => a + b, 0);
  const verifiedAt = field('verifiedAt') !== undefined ? Number(field('verifiedAt')) : undefined;
  return {
    total,
    rows: candidateRows(candidates, counts, total),
    root: typeof field('root') === 'string' ? field('root') : '',
    checkpoint: typeof field('checkpoint') === 'string' ? field('checkpoint') : '',
    verifiedAt: Number.isFinite(verifiedAt) ? verifiedAt : undefined,
  };
}
