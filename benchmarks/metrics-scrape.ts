/**
 * Reads a worker's Prometheus text exposition (/metrics) and sums a metric over its label sets:
 * enough for a benchmark to report commits, commit latency and restore figures next to wall time.
 */

/** The label pairs of one sample line (`name{a="x",b="y"} 1`), unescaped. */
function sampleLabels(rest: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (rest[0] !== '{') return labels;
  const body = rest.slice(1, rest.lastIndexOf('}'));
  for (const m of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return labels;
}

/**
 * Sum of every sample of `name` (e.g. `votestream_commits_total`, `votestream_commit_latency_seconds_sum`),
 * or of those whose labels include every pair of `where` (e.g. `{ subtopology: '1' }`).
 */
export function sumMetric(text: string, name: string, where: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const labels = sampleLabels(rest);
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** The exposition text, or '' when the worker does not answer within timeoutMs. */
export async function scrapeMetrics(url: string, timeoutMs = 3000): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}
