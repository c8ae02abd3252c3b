import uWS from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { Logger } from '../../runtime/logger.js';
import { ServiceUnavailableError } from '../../runtime/errors.js';
import { encodeJson } from '../vote.js';
import { topicNames } from '../topics.js';
import { errorBody, peerAddress, readBody, writeAnswer, type HttpAnswer } from '../http/uws-http.js';
import { clientAddress, normaliseAddress } from './client-address.js';
import { rejection, type GatewayRejection } from './gateway-errors.js';
import { GatewayMetrics } from './gateway-metrics.js';
import type { ElectionView } from './election-view.js';
import type { TokenBuckets } from './token-bucket.js';
import type { TokenVerifier } from './token-verifier.js';
import { ProduceRefusedError, type VoteProducer } from './vote-producer.js';
import { isJsonContentType, MAX_BODY_BYTES, voteFromRequest } from './vote-request.js';

export interface GatewayServerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly verifier: TokenVerifier;
  readonly elections: ElectionView;
  readonly producer: VoteProducer;
  readonly voterLimit: TokenBuckets;
  readonly ipLimit: TokenBuckets;
  readonly trustedProxies?: ReadonlySet<string>;
  /** Origins allowed to POST votes from a browser page. */
  readonly corsOrigins?: ReadonlySet<string>;
  readonly prefix?: string;
  readonly nowMs?: () => number;
}

const VOTE_ROUTE = '/v1/elections/:id/votes';

type Answer = HttpAnswer;

function errorAnswer(r: GatewayRejection, close = false): Answer {
  return { status: r.status, body: errorBody(r.error, r.message), retryAfterSec: r.retryAfterSec, close };
}

/**
 * The vote gateway (DESIGN section 3): `POST /v1/elections/:id/votes`, answered 202 only after
 * Kafka acknowledged the vote. Checks run cheapest first, so that a flood costs as little as
 * possible: the client's rate, the declared size, the token, the voter's rate, the media type, the
 * body, the election version in force now.
 */
export class GatewayServer {
  readonly #o: GatewayServerOptions;
  readonly #metrics: GatewayMetrics;
  readonly #app: uWS.TemplatedApp;
  readonly #votes: string;
  #listen: uWS.us_listen_socket | undefined;
  #port = 0;
  #draining = false;
  #open = 0;
  #idle: (() => void) | undefined;

  constructor(options: GatewayServerOptions) {
    this.#o = options;
    this.#votes = topicNames(options.prefix).votes;
    this.#metrics = new GatewayMetrics(options.registry, () => options.producer.inFlight);
    this.#app = uWS.App();
    this.#app.post(VOTE_ROUTE, (res, req) => this.#vote(res, req));
    this.#app.options(VOTE_ROUTE, (res, req) => this.#preflight(res, req.getHeader('origin')));
    this.#app.any(VOTE_ROUTE, (res) => this.#send(res, 'other', errorAnswer(rejection('method-not-allowed', 'votes are cast with POST'))));
    this.#app.get('/healthz', (res) => this.#send(res, '/healthz', { status: 200, body: JSON.stringify({ status: 'ok' }) }));
    this.#app.get('/readyz', (res) => this.#send(res, '/readyz', this.#readiness()));
    this.#app.get('/metrics', (res) => this.#metricsAnswer(res));
    this.#app.any('/*', (res) => this.#send(res, 'other', errorAnswer(rejection('not-found', 'no such route; votes go to POST /v1/elections/:id/votes'))));
  }

  get port(): number {
    return this.#port;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#app.listen(this.#o.host ?? '0.0.0.0', this.#o.port, (socket) => {
        if (socket === false) {
          reject(new ServiceUnavailableError(`the gateway cannot listen on ${this.#o.host ?? '0.0.0.0'}:${this.#o.port}`));
          return;
        }
        this.#listen = socket;
        this.#port = uWS.us_socket_local_port(socket);
        resolve(this.#port);
      });
    });
  }

  /** Stops accepting connections, answers every request already in, then returns. */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#listen !== undefined) uWS.us_listen_socket_close(this.#listen);
    this.#listen = undefined;
    if (this.#open > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  /** CORS headers for an allowed origin; none for any other (the browser then refuses the answer). */
  #cors(origin: string): Record<string, string> {
    return origin !== '' && this.#o.corsOrigins?.has(origin) === true ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  }

  #preflight(res: uWS.HttpResponse, origin: string): void {
    const cors = this.#cors(origin);
    const allowed = Object.keys(cors).length > 0;
    this.#send(res, 'preflight', {
      status: 204,
      body: '',
      headers: allowed ? { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' } : {},
    });
  }

  #readiness(): Answer {
    const reasons: string[] = [];
    if (this.#draining) reasons.push('shutting down');
    const elections = this.#o.elections.problem;
    if (elections !== undefined) reasons.push(elections);
    if (!this.#o.producer.healthy) reasons.push('the last produce to Kafka failed');
    const ready = reasons.length === 0;
    return { status: ready ? 200 : 503, body: JSON.stringify(ready ? { ready } : { ready, reasons }) };
  }

  #metricsAnswer(res: uWS.HttpResponse): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    this.#o.registry.metrics().then(
      (body) => !aborted && this.#send(res, '/metrics', { status: 200, body, contentType: this.#o.registry.contentType }),
      (error: unknown) => !aborted && this.#send(res, '/metrics', { status: 503, body: JSON.stringify({ error: 'unavailable', message: String(error) }) }),
    );
  }

  #send(res: uWS.HttpResponse, route: string, a: Answer): void {
    this.#metrics.requests.inc({ route, status: String(a.status) });
    writeAnswer(res, a);
  }

  #vote(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    // Everything from req must be read now: uWS reuses it once this handler returns.
    const electionId = req.getParameter(0) ?? '';
    const authorization = req.getHeader('authorization');
    const contentType = req.getHeader('content-type');
    const cors = this.#cors(req.getHeader('origin'));
    const declaredLength = Number(req.getHeader('content-length') || '0');
    const lengths = new Set<string>();
    req.forEach((name, value) => name === 'content-length' && lengths.add(value.trim()));
    const peer = normaliseAddress(peerAddress(res));
    const client = clientAddress(peer, req.getHeader('x-forwarded-for'), this.#o.trustedProxies ?? new Set());
    let done = false;
    this.#open++;
    const answer = (a: Answer): void => {
      if (done) return;
      done = true;
      this.#send(res, VOTE_ROUTE, Object.keys(cors).length > 0 ? { ...a, headers: { ...a.headers, ...cors } } : a);
      this.#closed();
    };
    res.onAborted(() => {
      if (done) return;
      done = true;
      this.#closed();
    });
    if (this.#draining) return answer(errorAnswer(rejection('shutting-down', 'the gateway is shutting down; retry', 1), true));
    const ip = this.#o.ipLimit.take(client);
    if (!ip.ok) {
      this.#metrics.rateLimited.inc({ by: 'ip' });
      return answer(errorAnswer(rejection('rate-limited', 'too many requests from this address', ip.retryAfterSec), true));
    }
    // uWS frames the body by the first Content-Length; a proxy in front may have used another one, so
    // nothing more on this connection can be trusted (request smuggling, RFC 9112 section 6.3). An
    // answer would not do: uWS 20.30 goes on to the next request even after `Connection: close`.
    // Closing at once is the one way to make it stop (onAborted then settles this request).
    if (lengths.size > 1) {
      this.#metrics.requests.inc({ route: VOTE_ROUTE, status: 'dropped' });
      res.close();
      return;
    }
    if (declaredLength > MAX_BODY_BYTES) return answer(errorAnswer(rejection('too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`), true));
    readBody(
      res,
      MAX_BODY_BYTES,
      (body) => {
        if (done) return;
        this.#judge(electionId, authorization, contentType, body).then(answer, (error: unknown) => {
          this.#o.logger.error({ err: error }, 'vote request failed unexpectedly');
          answer(errorAnswer(rejection('unavailable', 'the gateway could not take the vote; retry', 1)));
        });
      },
      () => answer(errorAnswer(rejection('too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`), true)),
    );
  }

  async #judge(electionId: string, authorization: string, contentType: string, body: Buffer): Promise<Answer> {
    const token = await this.#o.verifier.verify(authorization, electionId);
    if (!token.ok) return errorAnswer(token);
    const voter = this.#o.voterLimit.take(token.voterId);
    if (!voter.ok) {
      this.#metrics.rateLimited.inc({ by: 'voter' });
      return errorAnswer(rejection('rate-limited', 'too many votes from this voter', voter.retryAfterSec));
    }
    if (!isJsonContentType(contentType)) return errorAnswer(rejection('unsupported-media-type', 'send Content-Type: application/json'));
    const now = (this.#o.nowMs ?? Date.now)();
    const request = voteFromRequest(body, electionId, token.voterId, this.#o.elections.current(electionId), now);
    if (!request.ok) return errorAnswer(request);
    const { vote } = request;
    const end = this.#metrics.produceSeconds.startTimer();
    try {
      await this.#o.producer.send({ topic: this.#votes, key: Buffer.from(vote.voterId), value: encodeJson(vote), timestamp: vote.ts });
    } catch (error) {
      if (!(error instanceof ProduceRefusedError)) throw error;
      this.#o.logger.warn({ reason: error.reason, err: error.message }, 'vote not acknowledged by Kafka');
      return errorAnswer(rejection(error.reason === 'overloaded' ? 'overloaded' : 'unavailable', error.message.startsWith('Kafka') ? 'Kafka cannot take votes right now; retry' : error.message, error.reason === 'overloaded' ? 1 : 5));
    } finally {
      end();
    }
    return { status: 202, body: JSON.stringify({ voteId: vote.voteId, status: 'accepted-for-counting' }) };
  }

  #closed(): void {
    this.#open--;
    if (this.#open === 0 && this.#idle !== undefined) this.#idle();
  }
}
