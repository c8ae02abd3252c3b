import uWS from 'uWebSockets.js';
import type { RedisClient } from '../../sinks/redis-client.js';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { clientAddress, normaliseAddress } from '../gateway/client-address.js';
import { errorBody, peerAddress, writeAnswer, type HttpAnswer } from '../http/uws-http.js';
import { FEED_CLOSE } from './close-codes.js';
import { ConnectionLimits } from './connection-limits.js';
import { electionSummaries, isKnownElection, type ElectionSource } from './election-source.js';
import { FeedMetrics } from './feed-metrics.js';
import { LiveElections, type SerializedSnapshot } from './live-elections.js';
import { PAGE_FILE_PATTERN, type PageFile } from './page-files.js';
import type { FeedReceipts } from './receipts-route.js';
import { readElectionHashes, snapshotOf } from './snapshot.js';
import { SseClients } from './sse-clients.js';
import type { UpdatesSubscriber } from './updates-subscriber.js';
import { WsClients } from './ws-clients.js';

/** A throwaway voter's token for the demo page (dev mode only). */
export interface DemoToken {
  readonly voterId: string;
  readonly token: string;
}

export interface FeedServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly prefix: string;
  readonly intervalMs: number;
  readonly refreshMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly elections: ElectionSource;
  readonly reader: RedisClient;
  readonly updates: UpdatesSubscriber;
  readonly pageFiles: ReadonlyMap<string, PageFile>;
  readonly gatewayUrl: string | undefined;
  readonly demoToken: ((electionId: string) => Promise<DemoToken>) | undefined;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly slowClientBytes: number;
  readonly maxBackpressureBytes: number;
  readonly maxSkippedSnapshots: number;
  readonly heartbeatMs: number;
  readonly sseRetryMs: number;
  readonly trustedProxies: ReadonlySet<string>;
  readonly nowMs: () => number;
  /** Receipts and the signing public key (issue 12); absent: those routes answer 404. */
  readonly receipts?: FeedReceipts;
}

const json = (status: number, body: unknown): HttpAnswer => ({ status, body: JSON.stringify(body) });
const error = (status: number, code: string, message: string, retryAfterSec?: number): HttpAnswer => ({ status, body: errorBody(code, message), ...(retryAfterSec === undefined ? {} : { retryAfterSec }) });
const unknownElection = (id: string): HttpAnswer => error(404, 'unknown-election', `no election ${JSON.stringify(id)} in this deployment`);

/**
 * The live-results feed (DESIGN section 3, issue 11): snapshots over WebSocket
 * `/v1/elections/:id/live` and SSE `/v1/elections/:id/events`, the results, the elections and the
 * live page over plain HTTP, `/healthz`, `/readyz`, `/metrics`.
 */
export class FeedServer {
  readonly #o: FeedServerOptions;
  readonly #app: uWS.TemplatedApp;
  readonly #metrics: FeedMetrics;
  readonly #limits: ConnectionLimits;
  readonly #live: LiveElections;
  readonly #ws: WsClients;
  readonly #sse: SseClients;
  #listen: uWS.us_listen_socket | undefined;
  #draining = false;

  constructor(options: FeedServerOptions) {
    this.#o = options;
    this.#metrics = new FeedMetrics(options.registry, () => this.#ws.bufferedBytes());
    this.#limits = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp);
    this.#live = new LiveElections({
      reader: options.reader,
      updates: options.updates,
      prefix: options.prefix,
      intervalMs: options.intervalMs,
      refreshMs: options.refreshMs,
      logger: options.logger,
      metrics: this.#metrics,
      nowMs: options.nowMs,
      onSnapshot: (electionId, s, since) => this.#broadcast(electionId, s, since),
    });
    const common = { live: this.#live, limits: this.#limits, metrics: this.#metrics, logger: options.logger, maxSkipped: options.maxSkippedSnapshots };
    this.#ws = new WsClients({ ...common, slowBytes: options.slowClientBytes });
    this.#sse = new SseClients({ ...common, heartbeatMs: options.heartbeatMs, retryMs: options.sseRetryMs });
    const app = (this.#app = uWS.App());
    app.ws('/v1/elections/:id/live', this.#ws.behavior(app, options.maxBackpressureBytes, (res, req, context) => this.#upgrade(res, req, context)));
    app.get('/v1/elections/:id/events', (res, req) => this.#events(res, req));
    app.get('/v1/elections/:id/results', (res, req) => this.#results(res, req.getParameter(0) ?? ''));
    app.get('/v1/elections/:id/receipts/:voteId', (res, req) => this.#receipt(res, req.getParameter(0) ?? '', req.getParameter(1) ?? ''));
    app.get('/v1/keys', (res) => this.#send(res, '/v1/keys', options.receipts?.keys() ?? error(404, 'no-key', 'this feed serves no signing key')));
    app.get('/v1/elections/:id', (res, req) => this.#election(res, req.getParameter(0) ?? ''));
    app.get('/v1/elections', (res) => this.#send(res, '/v1/elections', json(200, { elections: electionSummaries(options.elections) })));
    app.get('/v1/config', (res) => this.#send(res, '/v1/config', json(200, { gatewayUrl: options.gatewayUrl ?? null })));
    app.get('/v1/demo-token', (res, req) => this.#demoToken(res, req.getQuery('election') ?? ''));
    app.get('/healthz', (res) => this.#send(res, '/healthz', json(200, { status: 'ok' })));
    app.get('/readyz', (res) => this.#send(res, '/readyz', this.#readiness()));
    app.get('/metrics', (res) => this.#metricsAnswer(res));
    app.get('/', (res) => this.#page(res, 'index.html'));
    app.get('/elections/:id', (res) => this.#page(res, 'election.html'));
    app.get('/page/:file', (res, req) => this.#page(res, req.getParameter(0) ?? ''));
    app.any('/*', (res) => this.#send(res, 'other', error(404, 'not-found', 'no such route')));
    options.updates.onResubscribed(() => this.#live.refreshAll());
    options.updates.onUpdate((electionId, receivedAt) => this.#live.updated(electionId, receivedAt));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#app.listen(this.#o.host, this.#o.port, (socket) => {
        if (socket === false) return reject(new ServiceUnavailableError(`the feed cannot listen on ${this.#o.host}:${this.#o.port}`));
        this.#listen = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  /** Stops listening and closes every stream (WebSocket 1001 shutting-down; SSE ended). */
  close(): void {
    this.#draining = true;
    if (this.#listen !== undefined) uWS.us_listen_socket_close(this.#listen);
    this.#listen = undefined;
    this.#ws.closeAll();
    this.#sse.closeAll();
    this.#live.close();
  }

  #broadcast(electionId: string, s: SerializedSnapshot, since: number | undefined): void {
    const receivers = this.#ws.broadcast(electionId, s) + this.#sse.broadcast(electionId, s);
    if (since !== undefined && receivers > 0) this.#metrics.publishToSendSeconds.observe((performance.now() - since) / 1000);
  }

  #clientIp(res: uWS.HttpResponse, req: uWS.HttpRequest): string {
    return clientAddress(normaliseAddress(peerAddress(res)), req.getHeader('x-forwarded-for'), this.#o.trustedProxies);
  }

  /** Known election and a free slot, else refused; the refusal of a WebSocket is a close with the reason. */
  #upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const electionId = req.getParameter(0) ?? '';
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const ip = this.#clientIp(res, req);
    if (!isKnownElection(this.#o.elections, electionId)) {
      this.#metrics.connectionsRefused.inc({ transport: 'ws', reason: 'unknown-election' });
      return this.#send(res, '/v1/elections/:id/live', unknownElection(electionId));
    }
    const refusal = this.#draining ? FEED_CLOSE.shuttingDown : this.#limits.take(ip) === undefined ? undefined : FEED_CLOSE.tooManyConnections;
    if (refusal !== undefined) this.#metrics.connectionsRefused.inc({ transport: 'ws', reason: refusal.reason });
    res.upgrade(WsClients.userData(electionId, ip, refusal), key, protocol, extensions, context);
  }

  #events(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const electionId = req.getParameter(0) ?? '';
    const ip = this.#clientIp(res, req);
    const route = '/v1/elections/:id/events';
    if (!isKnownElection(this.#o.elections, electionId)) {
      this.#metrics.connectionsRefused.inc({ transport: 'sse', reason: 'unknown-election' });
      return this.#send(res, route, unknownElection(electionId));
    }
    if (this.#draining) return this.#send(res, route, error(503, 'shutting-down', 'the feed is shutting down; reconnect', 1));
    if (this.#limits.take(ip) !== undefined) {
      this.#metrics.connectionsRefused.inc({ transport: 'sse', reason: FEED_CLOSE.tooManyConnections.reason });
      return this.#send(res, route, error(503, FEED_CLOSE.tooManyConnections.reason, 'this feed, or this address, has as many streams open as allowed; retry later', 5));
    }
    // Last-Event-ID needs no answer of its own: every stream starts with a fresh snapshot.
    this.#sse.stream(res, electionId, ip);
  }

  #results(res: uWS.HttpResponse, electionId: string): void {
    const route = '/v1/elections/:id/results';
    if (!isKnownElection(this.#o.elections, electionId)) return this.#send(res, route, unknownElection(electionId));
    let aborted = false;
    res.onAborted(() => (aborted = true));
    readElectionHashes(this.#o.reader, electionId, this.#o.prefix).then(
      (hashes) => !aborted && this.#send(res, route, json(200, snapshotOf(electionId, hashes, this.#o.nowMs()))),
      () => !aborted && this.#send(res, route, error(503, 'unavailable', 'the results cannot be read right now; retry', 1)),
    );
  }

  #receipt(res: uWS.HttpResponse, electionId: string, voteId: string): void {
    const route = '/v1/elections/:id/receipts/:voteId';
    const receipts = this.#o.receipts;
    if (!isKnownElection(this.#o.elections, electionId)) return this.#send(res, route, unknownElection(electionId));
    if (receipts === undefined) return this.#send(res, route, error(404, 'no-receipts', 'this feed does not serve receipts'));
    let aborted = false;
    res.onAborted(() => (aborted = true));
    receipts.receipt(electionId, voteId).then(
      (answer) => !aborted && this.#send(res, route, answer),
      (e: unknown) => {
        this.#o.logger.warn({ err: e instanceof Error ? e.message : String(e), electionId }, 'building a receipt failed');
        if (!aborted) this.#send(res, route, error(503, 'unavailable', 'the receipt cannot be built right now; retry', 1));
      },
    );
  }

  #election(res: uWS.HttpResponse, electionId: string): void {
    const current = this.#o.elections.current(electionId);
    if (current !== undefined) return this.#send(res, '/v1/elections/:id', json(200, current));
    this.#send(res, '/v1/elections/:id', isKnownElection(this.#o.elections, electionId) ? error(404, 'not-yet-effective', 'the election has no version in force yet') : unknownElection(electionId));
  }

  #demoToken(res: uWS.HttpResponse, electionId: string): void {
    const route = '/v1/demo-token';
    const issue = this.#o.demoToken;
    if (issue === undefined) return this.#send(res, route, error(404, 'not-found', 'demo tokens exist only in dev mode'));
    if (!isKnownElection(this.#o.elections, electionId)) return this.#send(res, route, unknownElection(electionId));
    let aborted = false;
    res.onAborted(() => (aborted = true));
    issue(electionId).then(
      (t) => !aborted && this.#send(res, route, json(200, { voterId: t.voterId, token: t.token })),
      (e: unknown) => {
        this.#o.logger.warn({ err: e }, 'issuing a demo token failed');
        if (!aborted) this.#send(res, route, error(503, 'unavailable', 'no demo token right now'));
      },
    );
  }

  #page(res: uWS.HttpResponse, name: string): void {
    const file = PAGE_FILE_PATTERN.test(name) ? this.#o.pageFiles.get(name) : undefined;
    if (file === undefined) return this.#send(res, 'page', error(404, 'not-found', 'no such page'));
    this.#metrics.requests.inc({ route: 'page', status: '200' });
    res.cork(() => {
      res.writeStatus('200 OK');
      res.writeHeader('content-type', file.contentType);
      res.writeHeader('x-content-type-options', 'nosniff');
      res.writeHeader('cache-control', 'no-cache');
      res.end(file.body);
    });
  }

  #readiness(): HttpAnswer {
    const reasons: string[] = [];
    if (this.#draining) reasons.push('shutting down');
    if (this.#o.elections.problem !== undefined) reasons.push(this.#o.elections.problem);
    if (this.#o.reader.status !== 'ready') reasons.push(`redis reader connection ${this.#o.reader.status}`);
    if (!this.#o.updates.ready) reasons.push('redis subscriber connection not ready');
    const ready = reasons.length === 0;
    return json(ready ? 200 : 503, ready ? { ready } : { ready, reasons });
  }

  #metricsAnswer(res: uWS.HttpResponse): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    this.#o.registry.metrics().then(
      (body) => !aborted && this.#send(res, '/metrics', { status: 200, body, contentType: this.#o.registry.contentType }),
      (e: unknown) => !aborted && this.#send(res, '/metrics', error(503, 'unavailable', String(e))),
    );
  }

  #send(res: uWS.HttpResponse, route: string, a: HttpAnswer): void {
    this.#metrics.requests.inc({ route, status: String(a.status) });
    writeAnswer(res, a);
  }
}
