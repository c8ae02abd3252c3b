import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { latencyHistogram } from './feed-latency.js';
import type { ClientResult, FeedTransport } from './feed-messages.js';

/** The feed's own counters over the publishing phase (deltas of its /metrics). */
export interface FeedCounters {
  readonly messagesSent: number;
  readonly snapshotsPublished: number;
  readonly snapshotsSkipped: number;
  readonly clientsDropped: number;
  readonly connectionsRefused: number;
  /** Its publish-to-send histogram's sum (s) and count: update reaching the feed -> snapshot handed to the sockets. */
  readonly publishToSendSumS: number;
  readonly publishToSendCount: number;
}

export interface FeedRunFacts {
  readonly durationS: number;
  readonly published: number;
  readonly publisherMaxLagMs: number;
  readonly connectS: number;
  readonly transports: readonly { readonly transport: FeedTransport; readonly asked: number; readonly results: readonly ClientResult[] }[];
  readonly feedCpuS: number;
  readonly feedPeakRssMiB: number;
  /** RSS once every client was connected, before the first update. */
  readonly feedConnectedRssMiB: number;
  readonly clientsCpuS: number;
  readonly counters: FeedCounters;
}

const ms = (us: number): number => Math.round(us / 10) / 100;
const perS = (n: number, s: number): number => (s > 0 ? Math.round(n / s) : 0);
const sum = (rs: readonly ClientResult[], f: (r: ClientResult) => number): number => rs.reduce((a, r) => a + f(r), 0);

/** `reasons` of every process, merged, as `reason × n; …` (most frequent first), or `none`. */
export function reasonsText(rs: readonly ClientResult[]): string {
  const all = new Map<string, number>();
  for (const r of rs) for (const [k, v] of Object.entries(r.reasons)) all.set(k, (all.get(k) ?? 0) + v);
  if (all.size === 0) return 'none';
  return [...all].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} × ${v.toLocaleString('en-US')}`).join('; ');
}

/** The figures of one `bench feed` run, as RESULTS.md rows show them. */
export function feedFigures(f: FeedRunFacts): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const { transport: t, asked, results } of f.transports) {
    if (asked === 0) continue;
    const h = latencyHistogram();
    for (const r of results) h.add(decodeFromCompressedBase64(r.histogram));
    const connected = sum(results, (r) => r.connected);
    const closed = sum(results, (r) => r.closed);
    out[`${t}: clients connected`] = `${connected.toLocaleString('en-US')} of ${asked.toLocaleString('en-US')}`;
    out[`${t}: clients closed during the run`] = closed;
    out[`${t}: failures and closes`] = reasonsText(results);
    out[`${t}: messages delivered/s`] = perS(sum(results, (r) => r.messages), f.durationS);
    out[`${t}: publish-to-receipt p50 ms`] = ms(h.getValueAtPercentile(50));
    out[`${t}: publish-to-receipt p99 ms`] = ms(h.getValueAtPercentile(99));
    out[`${t}: publish-to-receipt max ms`] = ms(h.maxValue);
    out[`${t}: update receipts measured`] = h.totalCount;
    out[`${t}: clients holding the last update at the end`] = `${sum(results, (r) => r.caughtUp).toLocaleString('en-US')} of ${(connected - closed).toLocaleString('en-US')} open`;
    const odd = sum(results, (r) => r.outOfOrder + r.unmatched);
    if (odd > 0) out[`${t}: snapshots out of order or unmatched`] = odd;
    const repeated = sum(results, (r) => r.repeated);
    if (repeated > 0) out[`${t}: snapshots repeating the previous total`] = repeated;
  }
  out['updates published'] = f.published;
  out['publisher max lag ms'] = f.publisherMaxLagMs;
  out['connect phase s'] = Math.round(f.connectS * 10) / 10;
  out['feed CPU s'] = Math.round(f.feedCpuS * 100) / 100;
  out['feed CPU % of one core'] = f.durationS > 0 ? Math.round((f.feedCpuS / f.durationS) * 100) : 0;
  out['feed RSS MiB, clients connected'] = Math.round(f.feedConnectedRssMiB);
  out['feed peak RSS MiB'] = Math.round(f.feedPeakRssMiB);
  out['feed messages sent/s'] = perS(f.counters.messagesSent, f.durationS);
  out['feed snapshots published'] = f.counters.snapshotsPublished;
  // The feed's side of the latency: what is left of the clients' figure is the sockets and the clients.
  out['feed publish-to-send mean ms (its histogram)'] = f.counters.publishToSendCount > 0 ? Math.round((f.counters.publishToSendSumS / f.counters.publishToSendCount) * 100_000) / 100 : 0;
  out['feed CPU ms per snapshot'] = f.counters.snapshotsPublished > 0 ? Math.round((f.feedCpuS / f.counters.snapshotsPublished) * 10_000) / 10 : 0;
  out['feed snapshots skipped (slow clients)'] = f.counters.snapshotsSkipped;
  out['feed clients dropped'] = f.counters.clientsDropped;
  out['feed connections refused'] = f.counters.connectionsRefused;
  out['client processes CPU s'] = Math.round(f.clientsCpuS * 100) / 100;
  return out;
}
