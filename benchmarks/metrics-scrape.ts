/**
 * Reads a worker's Prometheus text exposition (/metrics) and sums a metric over all its label sets:
 * enough for a benchmark to report commits, commit latency and restore figures next to wall time.
 */

/** Sum of every sample of `name` (e.g. `votestream_commits_total`, `votestream_commit_latency_seconds_sum`). */
export function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
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
