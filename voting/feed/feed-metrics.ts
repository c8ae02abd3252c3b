import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a client follows an election. */
export type Transport = 'ws' | 'sse';

/** The feed's Prometheus metrics; no label ever carries an address or an election id (unbounded). */
export class FeedMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly clients: Gauge<'transport'>;
  readonly messagesSent: Counter<'transport'>;
  readonly snapshotsSkipped: Counter<'transport'>;
  readonly clientsDropped: Counter<'transport' | 'reason'>;
  readonly connectionsRefused: Counter<'transport' | 'reason'>;
  readonly snapshotsPublished: Counter;
  readonly publishToSendSeconds: Histogram;
  readonly redisReadFailures: Counter;
  readonly electionsFollowed: Gauge;

  /** `wsBuffered`: the bytes uWS holds for WebSocket clients that have not read them (summed at scrape). */
  constructor(registry: Registry, wsBuffered: () => number) {
    const registers = [registry];
    this.requests = new Counter({ name: 'votestream_feed_requests_total', help: 'HTTP requests (not the streams) by route and status', labelNames: ['route', 'status'], registers });
    this.clients = new Gauge({ name: 'votestream_feed_clients', help: 'Clients following an election, by transport (ws, sse)', labelNames: ['transport'], registers });
    this.messagesSent = new Counter({ name: 'votestream_feed_messages_sent_total', help: 'Snapshots handed to clients (one per client and snapshot), by transport', labelNames: ['transport'], registers });
    this.snapshotsSkipped = new Counter({ name: 'votestream_feed_snapshots_skipped_total', help: 'Snapshots not sent to a client because it had not read the previous ones (backpressure)', labelNames: ['transport'], registers });
    this.clientsDropped = new Counter({ name: 'votestream_feed_clients_dropped_total', help: 'Clients the feed closed, by transport and reason (slow-consumer: skipped too often; stalled: an SSE backlog uWS timed out)', labelNames: ['transport', 'reason'], registers });
    this.connectionsRefused = new Counter({ name: 'votestream_feed_connections_refused_total', help: 'Connections refused, by transport and reason (too-many-connections, unknown-election, unavailable)', labelNames: ['transport', 'reason'], registers });
    this.snapshotsPublished = new Counter({ name: 'votestream_feed_snapshots_published_total', help: 'Snapshots built and fanned out (one per election and change, at most one per interval)', registers });
    this.publishToSendSeconds = new Histogram({
      name: 'votestream_feed_publish_to_send_seconds',
      help: 'From the first Redis update message a snapshot covers reaching the feed to the snapshot handed to the clients',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.redisReadFailures = new Counter({ name: 'votestream_feed_redis_read_failures_total', help: 'Snapshot reads from Redis that failed (retried)', registers });
    new Gauge({
      name: 'votestream_feed_ws_buffered_bytes',
      help: 'Bytes buffered for WebSocket clients that have not read them yet (bounded by maxBackpressure per client)',
      registers,
      collect() {
        this.set(wsBuffered());
      },
    });
    this.electionsFollowed = new Gauge({ name: 'votestream_feed_elections_followed', help: 'Elections with at least one client (one Redis subscription each)', registers });
  }
}
