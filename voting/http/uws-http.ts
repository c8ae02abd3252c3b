import type uWS from 'uWebSockets.js';

/** What the voting system's HTTP servers (gateway, admin) answer: a status and a JSON or text body. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
  readonly retryAfterSec?: number;
  /** Close the connection after answering (the client sent, or may still send, what we will not read). */
  readonly close?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** DESIGN section 3's error body. */
export function errorBody(error: string, message: string): string {
  return JSON.stringify({ error, message });
}

/** Writes the whole answer in one corked batch (one syscall). Only on a response that is still open. */
export function writeAnswer(res: uWS.HttpResponse, a: HttpAnswer): void {
  res.cork(() => {
    res.writeStatus(`${a.status} ${REASONS[a.status] ?? ''}`);
    res.writeHeader('content-type', a.contentType ?? 'application/json');
    if (a.retryAfterSec !== undefined) res.writeHeader('retry-after', String(a.retryAfterSec));
    for (const [name, value] of Object.entries(a.headers ?? {})) res.writeHeader(name, value);
    res.end(a.body, a.close === true);
  });
}

/**
 * Collects a request body of at most `limit` bytes. uWS lends each chunk only for the callback, so
 * it is copied. `onTooLarge` runs once, as soon as the body passes the limit; later chunks are ignored.
 */
export function readBody(res: uWS.HttpResponse, limit: number, onBody: (body: Buffer) => void, onTooLarge: () => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (over) return;
    size += chunk.byteLength;
    if (size > limit) {
      over = true;
      onTooLarge();
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) onBody(Buffer.concat(chunks));
  });
}

/** The peer's address as text (uWS gives it as an ArrayBuffer). */
export function peerAddress(res: uWS.HttpResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString('utf8');
}
