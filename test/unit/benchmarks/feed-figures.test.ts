import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { addProgress, shares } from '../../../benchmarks/feed-client-pool.js';
import { feedFigures, reasonsText, type FeedRunFacts } from '../../../benchmarks/feed-figures.js';
import { latencyHistogram } from '../../../benchmarks/feed-latency.js';
import type { ClientResult } from '../../../benchmarks/feed-messages.js';

function clientResult(latenciesMs: readonly number[], changes: Partial<ClientResult> = {}): ClientResult {
  const h = latencyHistogram();
  for (const ms of latenciesMs) h.recordValue(ms * 1000);
  return { transport: 'ws', connected: 2, failed: 0, closed: 0, messages: 40, caughtUp: 2, announced: 10, reasons: {}, histogram: encodeIntoCompressedBase64(h), unmatched: 0, outOfOrder: 0, repeated: 0, ...changes };
}

const facts = (results: readonly ClientResult[]): FeedRunFacts => ({
  durationS: 10,
  published: 40,
  publisherMaxLagMs: 1.5,
  connectS: 2.04,
  transports: [
    { transport: 'ws', asked: 5, results },
    { transport: 'sse', asked: 0, results: [] },
  ],
  feedCpuS: 2.5,
  feedPeakRssMiB: 300.4,
  feedConnectedRssMiB: 250.6,
  clientsCpuS: 4,
  counters: { messagesSent: 1_000, snapshotsPublished: 40, snapshotsSkipped: 3, clientsDropped: 1, connectionsRefused: 0, publishToSendSumS: 0.4, publishToSendCount: 40 },
});

describe('bench feed: splitting clients and summing progress', () => {
  it('splits clients over processes in shares that differ by one at most, none empty', () => {
    expect(shares(10, 3)).toEqual([4, 3, 3]);
    expect(shares(2, 4)).toEqual([1, 1]);
  });

  it('sums counts and keeps the least-informed process’s announced update', () => {
    const p = addProgress({ connected: 1, failed: 2, closed: 3, messages: 4, caughtUp: 5, announced: 9 }, { connected: 1, failed: 1, closed: 1, messages: 1, caughtUp: 1, announced: 7 });
    expect(p).toEqual({ connected: 2, failed: 3, closed: 4, messages: 5, caughtUp: 6, announced: 7 });
  });
});

describe('bench feed: figures', () => {
  it('merges the processes’ histograms and counts, per transport present, and the feed’s own', () => {
    const f = feedFigures(facts([clientResult([10, 20]), clientResult([30, 1_000], { closed: 1, caughtUp: 1, reasons: { 'ws close 4008 slow-consumer': 1 } })]));
    expect(f['ws: clients connected']).toBe('4 of 5');
    expect(f['ws: clients closed during the run']).toBe(1);
    expect(f['ws: failures and closes']).toBe('ws close 4008 slow-consumer × 1');
    expect(f['ws: messages delivered/s']).toBe(8);
    expect(f['ws: update receipts measured']).toBe(4);
    expect(Math.round(Number(f['ws: publish-to-receipt max ms']))).toBe(1_000);
    expect(f['ws: clients holding the last update at the end']).toBe('3 of 3 open');
    expect(f['feed CPU % of one core']).toBe(25);
    expect(f['feed peak RSS MiB']).toBe(300);
    expect(f['feed messages sent/s']).toBe(100);
    expect(f['feed clients dropped']).toBe(1);
    expect(f['feed publish-to-send mean ms (its histogram)']).toBe(10);
    expect(f['feed CPU ms per snapshot']).toBe(62.5);
    expect(Object.keys(f).some((k) => k.startsWith('sse:'))).toBe(false);
    expect(Object.keys(f).some((k) => k.includes('out of order'))).toBe(false);
  });

  it('lists failure reasons most frequent first, or none', () => {
    expect(reasonsText([clientResult([], { reasons: { a: 1, b: 3 } }), clientResult([], { reasons: { a: 1 } })])).toBe('b × 3; a × 2');
    expect(reasonsText([clientResult([])])).toBe('none');
  });
});
