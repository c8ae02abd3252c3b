import uWS from 'uWebSockets.js';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { ServiceUnavailableError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { CandidateSchema } from '../election.js';
import { errorBody, readBody, writeAnswer, type HttpAnswer } from '../http/uws-http.js';
import { formatZodError } from '../vote.js';
import { bearerMatches } from './admin-token.js';
import { ElectionInvalidError, ElectionNotFoundError, type ElectionAdmin } from './election-admin.js';
import { ElectionConflictError } from './election-store.js';

/** Elections carry up to 10,000 candidates and regions; the admin is authenticated, so the bound is generous. */
export const MAX_ADMIN_BODY_BYTES = 4 * 1024 * 1024;

const instant = z.int().min(0);
const DraftSchema = z.strictObject({
  electionId: z.string(),
  title: z.string(),
  candidates: z.array(CandidateSchema),
  regions: z.array(z.string()).optional(),
  opensAt: instant.optional(),
  closesAt: instant.optional(),
});
const ChangesSchema = z.strictObject({
  title: z.string().optional(),
  candidates: z.array(CandidateSchema).optional(),
  regions: z.array(z.string()).optional(),
  opensAt: instant.optional(),
  closesAt: instant.optional(),
});
const OpenSchema = z.strictObject({ closesAt: instant.optional() });

export interface AdminServerOptions {
  readonly host?: string;
  readonly port: number;
  readonly token: string;
  readonly admin: ElectionAdmin;
  readonly logger: Logger;
  readonly registry: Registry;
}

type Handler = (params: readonly string[], body: unknown) => Promise<HttpAnswer>;

const json = (status: number, value: unknown): HttpAnswer => ({ status, body: JSON.stringify(value) });

/**
 * The elections admin API (DESIGN section 3), on 127.0.0.1 by default. Every route but /healthz and
 * /metrics wants the admin bearer token, checked before routing, so a caller without it learns
 * nothing of what exists.
 */
export class AdminServer {
  readonly #o: AdminServerOptions;
  readonly #app: uWS.TemplatedApp;
  readonly #requests: Counter<'route' | 'status'>;
  #listen: uWS.us_listen_socket | undefined;

  constructor(options: AdminServerOptions) {
    this.#o = options;
    this.#requests = new Counter({ name: 'votestream_admin_requests_total', help: 'Admin API requests by route and status', labelNames: ['route', 'status'], registers: [options.registry] });
    const a = options.admin;
    this.#app = uWS.App();
    this.#route('get', '/v1/admin/elections', 0, false, async () => json(200, { elections: await a.list() }));
    this.#route('post', '/v1/admin/elections', 0, true, async (_p, body) => json(201, await a.create(parse(DraftSchema, body))));
    this.#route('get', '/v1/admin/elections/:id', 1, false, async ([id]) => json(200, await a.show(id)));
    this.#route('patch', '/v1/admin/elections/:id', 1, true, async ([id], body) => json(200, await a.edit(id, parse(ChangesSchema, body))));
    this.#route('post', '/v1/admin/elections/:id/open', 1, true, async ([id], body) => json(200, await a.open(id, parse(OpenSchema, body ?? {}).closesAt)));
    this.#route('post', '/v1/admin/elections/:id/close', 1, false, async ([id]) => json(200, await a.close(id)));
    this.#app.get('/healthz', (res) => this.#answer(res, '/healthz', json(200, { status: 'ok' })));
    this.#app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void options.registry.metrics().then((body) => !aborted && this.#answer(res, '/metrics', { status: 200, body, contentType: options.registry.contentType }));
    });
    this.#app.any('/*', (res, req) => {
      const ok = bearerMatches(req.getHeader('authorization'), options.token);
      this.#answer(res, 'other', ok ? { status: 404, body: errorBody('not-found', 'no such route') } : unauthorized(), !ok);
    });
  }

  listen(): Promise<number> {
    const host = this.#o.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.#app.listen(host, this.#o.port, (socket) => {
        if (socket === false) return reject(new ServiceUnavailableError(`the admin cannot listen on ${host}:${this.#o.port}`));
        this.#listen = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  close(): void {
    if (this.#listen !== undefined) uWS.us_listen_socket_close(this.#listen);
    this.#listen = undefined;
  }

  #answer(res: uWS.HttpResponse, route: string, a: HttpAnswer, close = false): void {
    this.#requests.inc({ route, status: String(a.status) });
    writeAnswer(res, close ? { ...a, close } : a);
  }

  #route(method: 'get' | 'post' | 'patch', pattern: string, params: number, hasBody: boolean, handler: Handler): void {
    this.#app[method](pattern, (res, req) => {
      const values = Array.from({ length: params }, (_, i) => decodeURIComponent(req.getParameter(i) ?? ''));
      const authorized = bearerMatches(req.getHeader('authorization'), this.#o.token);
      let done = false;
      res.onAborted(() => (done = true));
      const finish = (a: HttpAnswer, close = false): void => {
        if (done) return;
        done = true;
        this.#answer(res, pattern, a, close);
      };
      if (!authorized) return finish(unauthorized(), true);
      const run = (body: unknown): void => {
        handler(values, body).then(finish, (error: unknown) => finish(this.#failure(error)));
      };
      readBody(
        res,
        MAX_ADMIN_BODY_BYTES,
        (bytes) => {
          if (!hasBody || bytes.length === 0) return run(undefined);
          try {
            run(JSON.parse(bytes.toString('utf8')) as unknown);
          } catch {
            finish({ status: 400, body: errorBody('invalid', 'the body is not valid JSON') });
          }
        },
        () => finish({ status: 413, body: errorBody('too-large', `the body must be at most ${MAX_ADMIN_BODY_BYTES} bytes`) }, true),
      );
    });
  }

  #failure(error: unknown): HttpAnswer {
    if (error instanceof ElectionInvalidError) return { status: 400, body: errorBody('invalid', error.message) };
    if (error instanceof ElectionNotFoundError) return { status: 404, body: errorBody('not-found', error.message) };
    if (error instanceof ElectionConflictError) return { status: 409, body: errorBody('conflict', error.message) };
    this.#o.logger.error({ err: error }, 'admin request failed');
    return { status: 503, body: errorBody('unavailable', 'DynamoDB or Kafka could not take the change; retry'), retryAfterSec: 5 };
  }
}

function unauthorized(): HttpAnswer {
  return { status: 401, body: errorBody('unauthorized', 'send Authorization: Bearer <admin token>') };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ElectionInvalidError(formatZodError(parsed.error, body));
  return parsed.data;
}
