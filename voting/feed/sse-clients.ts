import type uWS from 'uWebSockets.js';
import type { Logger } from '../../runtime/logger.js';
import { errorBody, writeAnswer } from '../http/uws-http.js';
import { FEED_CLOSE } from './close-codes.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { FeedMetrics } from './feed-metrics.js';
import { Followers } from './followers.js';
import type { LiveElections, SerializedSnapshot } from './live-elections.js';

interface SseClient {
  readonly res: uWS.HttpResponse;
  readonly electionId: string;
  readonly ip: string;
  /** Its first snapshot is written; from then on it is in the fan-out. */
  live: boolean;
  /** The last write did not go out whole: uWS holds the rest until the socket drains. */
  blocked: boolean;
  /** Snapshots skipped in a row while blocked. */
  skipped: number;
  closed: boolean;
}

export interface SseClientsOptions {
  readonly live: LiveElections;
  readonly limits: ConnectionLimits;
  readonly metrics: FeedMetrics;
  readonly logger: Logger;
  /** Consecutive snapshots skipped while blocked after which the stream is closed. */
  readonly maxSkipped: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  readonly heartbeatMs: number;
  /** What EventSource waits before reconnecting (the `retry:` field). */
  readonly retryMs: number;
}

/** One SSE event: `id:` (the snapshot's time) and the snapshot JSON, which never holds a newline. */
function sseEvent(s: SerializedSnapshot): string {
  return `id: ${s.snapshot.at}\ndata: ${s.text}\n\n`;
}

/**
 * The Server-Sent Events side of the feed, written by hand on the uWS response (chunked
 * `text/event-stream`). A client that sends `Last-Event-ID` (a reconnecting EventSource) gets
 * what every client gets first: a fresh snapshot, which supersedes whatever it missed. A write that
 * uWS could not pass to the socket whole marks the client blocked: it is skipped (uWS holds at most
 * that one write for it) until `onWritable` says the socket drained, then it gets the latest
 * snapshot; skipped `maxSkipped` times in a row, it is closed.
 */
export class SseClients {
  readonly #o: SseClientsOptions;
  readonly #followers: Followers<SseClient>;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: SseClientsOptions) {
    this.#o = options;
    this.#followers = new Followers('sse', options.limits, options.metrics, options.live);
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Serves one `GET /v1/elections/:id/events` whose election is known and whose limit slot is taken. */
  stream(res: uWS.HttpResponse, electionId: string, ip: string): void {
    const c: SseClient = { res, electionId, ip, live: false, blocked: false, skipped: 0, closed: false };
    res.onAborted(() => {
      // uWS itself closes a response whose backlog has not drained for ~10 s: a drop all the same.
      if (c.blocked && !c.closed) this.#o.metrics.clientsDropped.inc({ transport: 'sse', reason: 'stalled' });
      this.#gone(c);
    });
    this.#followers.enter(electionId, c);
    this.#o.live.join(electionId).then(
      (s) => {
        if (c.closed) return;
        res.cork(() => {
          res.writeStatus('200 OK');
          res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
          res.writeHeader('cache-control', 'no-store');
          // Tells nginx-style proxies not to buffer the stream.
          res.writeHeader('x-accel-buffering', 'no');
          this.#write(c, `retry: ${this.#o.retryMs}\n\n${sseEvent(s)}`);
        });
        res.onWritable(() => this.#drained(c));
        c.live = true;
      },
      (error: unknown) => {
        if (c.closed) return;
        this.#o.logger.warn({ err: error instanceof Error ? error.message : String(error), electionId }, 'no first snapshot for an SSE client');
        this.#o.metrics.connectionsRefused.inc({ transport: 'sse', reason: FEED_CLOSE.unavailable.reason });
        this.#gone(c);
        writeAnswer(res, { status: 503, body: errorBody('unavailable', 'the feed cannot read the election right now; retry'), retryAfterSec: 1, close: true });
      },
    );
  }

  broadcast(electionId: string, s: SerializedSnapshot): number {
    const set = this.#followers.of(electionId);
    if (set === undefined) return 0;
    const event = sseEvent(s);
    let sent = 0;
    for (const c of set) {
      if (!c.live) continue;
      if (c.blocked) {
        c.skipped++;
        this.#o.metrics.snapshotsSkipped.inc({ transport: 'sse' });
        if (c.skipped >= this.#o.maxSkipped) this.#drop(c);
        continue;
      }
      c.res.cork(() => this.#write(c, event));
      sent++;
    }
    this.#o.metrics.messagesSent.inc({ transport: 'sse' }, sent);
    return sent;
  }

  closeAll(): void {
    clearInterval(this.#heartbeat);
    for (const c of [...this.#followers.all()]) {
      this.#gone(c);
      c.res.cork(() => c.res.end());
    }
  }

  #write(c: SseClient, chunk: string): void {
    c.blocked = !c.res.write(chunk);
  }

  /** The socket took what uWS held: a client that missed snapshots gets the latest at once. */
  #drained(c: SseClient): boolean {
    if (c.closed) return true;
    c.blocked = false;
    if (c.skipped > 0) {
      c.skipped = 0;
      const current = this.#o.live.current(c.electionId);
      if (current !== undefined) {
        this.#write(c, sseEvent(current));
        this.#o.metrics.messagesSent.inc({ transport: 'sse' });
      }
    }
    return true;
  }

  #beat(): void {
    for (const c of this.#followers.all()) if (c.live && !c.blocked) c.res.cork(() => this.#write(c, ': heartbeat\n\n'));
  }

  #drop(c: SseClient): void {
    this.#o.metrics.clientsDropped.inc({ transport: 'sse', reason: FEED_CLOSE.slowConsumer.reason });
    this.#o.logger.info({ electionId: c.electionId, skipped: c.skipped }, 'dropping an SSE client that does not read its snapshots');
    this.#gone(c);
    // Closed, not ended: an end would queue behind the backlog the client is not reading.
    c.res.close();
  }

  /** Once per client, however it ends (abort, drop, shutdown). */
  #gone(c: SseClient): void {
    if (c.closed) return;
    c.closed = true;
    this.#followers.exit(c.electionId, c.ip, c);
  }
}
