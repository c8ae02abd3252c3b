/**
 * A client process of `bench feed` (forked by benchmarks/feed-client-pool.ts): opens its share of
 * WebSocket or SSE streams to the feed, parses every snapshot as a page would, and charges each
 * update's latency from the parent's publish time (benchmarks/feed-latency.ts). Clients live in
 * processes of their own so that the feed's CPU is not shared with their parsing in one event loop.
 */
import { onSseData } from './sse-data.js';
import { get, type ClientRequest } from 'node:http';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import WebSocket from 'ws';
import { preciseNowMs, UpdateLatency } from './feed-latency.js';
import type { ClientProgress, FeedTransport, FromClients, ToClients } from './feed-messages.js';

interface Stream {
  live: boolean;
  open: boolean;
  lastTotal: number;
  close(): void;
}

const PROGRESS_MS = 500;
const latency = new UpdateLatency();
const streams: Stream[] = [];
const reasons: Record<string, number> = {};
let transport: FeedTransport = 'ws';
let latestPublished = 0;
let connected = 0;
let failed = 0;
let closed = 0;
let messages = 0;
let finishing = false;

function send(m: FromClients, then?: () => void): void {
  process.send?.(m, undefined, undefined, () => then?.());
}

function because(reason: string): void {
  reasons[reason] = (reasons[reason] ?? 0) + 1;
}

function snapshot(s: Stream, text: string): void {
  const at = preciseNowMs();
  let total: number;
  try {
    total = (JSON.parse(text) as { total: number }).total;
  } catch {
    because('unparsable message');
    return;
  }
  if (!s.live) {
    // The snapshot on connect: the state, not an update.
    s.live = true;
    s.lastTotal = total;
    connected++;
    return;
  }
  messages++;
  latency.received(s.lastTotal, total, at);
  s.lastTotal = Math.max(s.lastTotal, total);
}

/** Once per stream, however it ends. */
function ended(s: Stream, reason: string): void {
  if (!s.open) return;
  s.open = false;
  if (finishing) return;
  if (s.live) closed++;
  else failed++;
  because(reason);
}

function openWs(url: string): Stream {
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30_000 });
  const s: Stream = { live: false, open: true, lastTotal: 0, close: () => ws.terminate() };
  ws.on('message', (data) => snapshot(s, String(data)));
  ws.on('unexpected-response', (_req, res) => {
    ended(s, `ws status ${res.statusCode}`);
    res.resume();
    ws.terminate();
  });
  ws.on('error', (e) => ended(s, `ws error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  ws.on('close', (code, reason) => ended(s, `ws close ${code} ${String(reason)}`.trim()));
  return s;
}

function openSse(url: string): Stream {
  let req: ClientRequest | undefined;
  const s: Stream = { live: false, open: true, lastTotal: 0, close: () => req?.destroy() };
  // agent: false, one socket per stream, as separate browsers would have.
  req = get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) {
      ended(s, `sse status ${res.statusCode}`);
      res.resume();
      return;
    }
    onSseData(res, (data) => snapshot(s, data));
    res.on('close', () => ended(s, 'sse stream ended'));
  });
  req.setTimeout(30_000, () => !s.live && req?.destroy(new Error('no first snapshot within 30 s')));
  req.on('error', (e) => ended(s, `sse error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  return s;
}

function progress(): ClientProgress {
  let caughtUp = 0;
  for (const s of streams) if (s.open && s.live && s.lastTotal >= latestPublished) caughtUp++;
  return { connected, failed, closed, messages, caughtUp, announced: latestPublished };
}

/** Opens `count` streams, `ratePerS` a second: a burst of thousands of handshakes would measure the accept queue. */
function connect(m: Extract<ToClients, { type: 'connect' }>): void {
  transport = m.transport;
  const start = performance.now();
  let opened = 0;
  const tick = (): void => {
    const due = Math.min(m.count, Math.floor(((performance.now() - start) * m.ratePerS) / 1000) + 1);
    for (; opened < due && !finishing; opened++) streams.push(m.transport === 'ws' ? openWs(m.url) : openSse(m.url));
    if (opened < m.count && !finishing) setTimeout(tick, 10);
  };
  tick();
}

function finish(): void {
  const last = progress();
  finishing = true;
  for (const s of streams) s.close();
  send(
    {
      type: 'result',
      transport,
      ...last,
      reasons,
      histogram: encodeIntoCompressedBase64(latency.histogram),
      unmatched: latency.unmatched,
      outOfOrder: latency.outOfOrder,
      repeated: latency.repeated,
    },
    () => process.exit(0),
  );
}

process.on('message', (m: ToClients) => {
  if (m.type === 'connect') connect(m);
  else if (m.type === 'published') {
    latestPublished = Math.max(latestPublished, m.total);
    latency.published(m.total, m.atMs);
  } else finish();
});
// The parent is gone: so are we (no stream outlives a bench).
process.on('disconnect', () => process.exit(0));
setInterval(() => !finishing && send({ type: 'progress', ...progress() }), PROGRESS_MS).unref();
