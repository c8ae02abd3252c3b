import uWS from 'uWebSockets.js';
import type { Logger } from '../../runtime/logger.js';
import { FEED_CLOSE } from './close-codes.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { FeedMetrics } from './feed-metrics.js';
import { Followers } from './followers.js';
import type { LiveElections, SerializedSnapshot } from './live-elections.js';

/** What the feed keeps per WebSocket (uWS user data). */
interface WsClient {
  readonly electionId: string;
  readonly ip: string;
  readonly topic: string;
  /** Set when the upgrade was refused by a limit: the socket opens only to be closed with the reason. */
  readonly refusal: { readonly code: number; readonly reason: string } | undefined;
  /** Got its first snapshot; from then on it is in the fan-out. */
  live: boolean;
  /** In the uWS topic; a slow client is taken out until it has read its backlog. */
  subscribed: boolean;
  /** Snapshots skipped in a row because it was slow. */
  skipped: number;
  closed: boolean;
}

export interface WsSlowConsumerPolicy {
  /** Buffered bytes above which a client is skipped (it gets the latest snapshot once it caught up). */
  readonly slowBytes: number;
  /** Consecutive skipped snapshots after which a client is dropped (close 4008 slow-consumer). */
  readonly maxSkipped: number;
}

export interface WsClientsOptions extends WsSlowConsumerPolicy {
  readonly live: LiveElections;
  readonly limits: ConnectionLimits;
  readonly metrics: FeedMetrics;
  readonly logger: Logger;
}

/** The uWS topic of an election's snapshots. */
const topicOf = (electionId: string): string => `snapshots/${electionId}`;

/**
 * The WebSocket side of the feed: a client gets the current snapshot, then joins the election's
 * uWS topic, so one `app.publish` hands one serialized snapshot to every subscriber (the JSON is
 * built once per election and update, whatever the number of clients). Before each publish the
 * subscribers' backlogs are looked at: a client above `slowBytes` leaves the topic (skipped, its
 * memory stays bounded) and rejoins with the latest snapshot once drained; one skipped
 * `maxSkipped` times in a row is closed.
 */
export class WsClients {
  readonly #o: WsClientsOptions;
  readonly #followers: Followers<uWS.WebSocket<WsClient>>;
  #app: uWS.TemplatedApp | undefined;

  constructor(options: WsClientsOptions) {
    this.#o = options;
    this.#followers = new Followers('ws', options.limits, options.metrics, options.live);
  }

  /** User data for an accepted upgrade (the limit slot already taken) or a refused one. */
  static userData(electionId: string, ip: string, refusal?: { readonly code: number; readonly reason: string }): WsClient {
    return { electionId, ip, topic: topicOf(electionId), refusal, live: false, subscribed: false, skipped: 0, closed: false };
  }

  /** The uWS behaviour for the route; `upgrade` decides (election known, limits) and calls `res.upgrade`. */
  behavior(app: uWS.TemplatedApp, maxBackpressure: number, upgrade: NonNullable<uWS.WebSocketBehavior<WsClient>['upgrade']>): uWS.WebSocketBehavior<WsClient> {
    this.#app = app;
    return {
      // Clients send nothing; a big message is not a client of ours.
      maxPayloadLength: 1024,
      idleTimeout: 60,
      sendPingsAutomatically: true,
      // The hard cap per socket: above it uWS drops messages and closes (our skip starts far below).
      maxBackpressure,
      closeOnBackpressureLimit: 1,
      upgrade,
      open: (ws) => this.#open(ws),
      drain: (ws) => this.#drain(ws),
      close: (ws) => this.#close(ws),
    };
  }

  /** What uWS holds for clients that have not read it: the feed's only per-client backlog. */
  bufferedBytes(): number {
    let n = 0;
    for (const ws of this.#followers.all()) n += ws.getBufferedAmount();
    return n;
  }

  /** Fans one new snapshot out to the election's WebSocket clients. */
  broadcast(electionId: string, s: SerializedSnapshot): number {
    const set = this.#followers.of(electionId);
    const app = this.#app;
    if (set === undefined || app === undefined) return 0;
    for (const ws of set) {
      const d = ws.getUserData();
      if (!d.live) continue;
      if (ws.getBufferedAmount() > this.#o.slowBytes) {
        if (d.subscribed) ws.unsubscribe(d.topic);
        d.subscribed = false;
        d.skipped++;
        this.#o.metrics.snapshotsSkipped.inc({ transport: 'ws' });
        if (d.skipped >= this.#o.maxSkipped) this.#drop(ws);
      } else if (!d.subscribed) {
        ws.subscribe(d.topic);
        d.subscribed = true;
        d.skipped = 0;
      } else {
        d.skipped = 0;
      }
    }
    const topic = topicOf(electionId);
    const receivers = app.numSubscribers(topic);
    if (receivers > 0) app.publish(topic, s.text);
    this.#o.metrics.messagesSent.inc({ transport: 'ws' }, receivers);
    return receivers;
  }

  /** Closes every client (shutdown). */
  closeAll(): void {
    for (const ws of [...this.#followers.all()]) ws.end(FEED_CLOSE.shuttingDown.code, FEED_CLOSE.shuttingDown.reason);
  }

  #open(ws: uWS.WebSocket<WsClient>): void {
    const d = ws.getUserData();
    if (d.refusal !== undefined) {
      ws.end(d.refusal.code, d.refusal.reason);
      return;
    }
    this.#followers.enter(d.electionId, ws);
    this.#o.live.join(d.electionId).then(
      (s) => {
        if (d.closed) return;
        // Sent, then subscribed, in one tick: every later snapshot reaches it through the topic, in order.
        ws.cork(() => ws.send(s.text));
        this.#o.metrics.messagesSent.inc({ transport: 'ws' });
        ws.subscribe(d.topic);
        d.subscribed = true;
        d.live = true;
      },
      (error: unknown) => {
        if (d.closed) return;
        this.#o.logger.warn({ err: error instanceof Error ? error.message : String(error), electionId: d.electionId }, 'no first snapshot for a websocket client');
        this.#o.metrics.connectionsRefused.inc({ transport: 'ws', reason: FEED_CLOSE.unavailable.reason });
        ws.end(FEED_CLOSE.unavailable.code, FEED_CLOSE.unavailable.reason);
      },
    );
  }

  /** Its backlog went down: a skipped client rejoins with the latest snapshot (it gets the next one). */
  #drain(ws: uWS.WebSocket<WsClient>): void {
    const d = ws.getUserData();
    if (!d.live || d.subscribed || d.closed || ws.getBufferedAmount() > this.#o.slowBytes / 2) return;
    const current = this.#o.live.current(d.electionId);
    if (current !== undefined) {
      ws.send(current.text);
      this.#o.metrics.messagesSent.inc({ transport: 'ws' });
    }
    ws.subscribe(d.topic);
    d.subscribed = true;
    d.skipped = 0;
  }

  #drop(ws: uWS.WebSocket<WsClient>): void {
    const d = ws.getUserData();
    this.#o.metrics.clientsDropped.inc({ transport: 'ws', reason: FEED_CLOSE.slowConsumer.reason });
    this.#o.logger.info({ electionId: d.electionId, skipped: d.skipped }, 'dropping a websocket client that does not read its snapshots');
    ws.end(FEED_CLOSE.slowConsumer.code, FEED_CLOSE.slowConsumer.reason);
  }

  #close(ws: uWS.WebSocket<WsClient>): void {
    const d = ws.getUserData();
    if (d.closed) return;
    d.closed = true;
    if (d.refusal !== undefined) return;
    this.#followers.exit(d.electionId, d.ip, ws);
  }
}
