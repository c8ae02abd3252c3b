import { connect, type Socket } from 'node:net';

/** What came back on a raw connection: the first response (if any) and whether the server closed. */
export interface RawResponse {
  /** undefined: the server closed (or reset) the connection without answering. */
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The server closed the connection. Only telling when there was no answer: a close just after one may land after this resolved. */
  readonly closed: boolean;
}

export interface RawRequestOptions {
  /** Half-close the connection after the last part (a client that sent all it will send). */
  readonly end?: boolean;
  /** Give up waiting for an answer after this long and report what was seen (a hung server shows as status undefined, closed false). */
  readonly timeoutMs?: number;
}

/**
 * Sends bytes exactly as given over a fresh TCP connection, for requests no HTTP client library
 * would send (lying lengths, duplicate headers, broken request lines), and reads the first
 * response: the head, then a Content-Length body. Resolves once that response is complete or the
 * server closed the connection.
 */
export async function rawRequest(port: number, parts: ReadonlyArray<string | Buffer>, options: RawRequestOptions = {}): Promise<RawResponse> {
  const { received, closed } = await converse(port, parts, options, (buf) => parseAt(buf, 0) !== undefined);
  const first = parseAt(received, 0);
  return { ...(first === undefined ? { status: undefined, headers: {}, body: '' } : { status: first.status, headers: first.headers, body: first.body }), closed };
}

/**
 * One connection: writes `parts`, collects what comes back until `enough` says so, the server
 * closes, or the timeout passes (closed false).
 */
function converse(port: number, parts: ReadonlyArray<string | Buffer>, options: RawRequestOptions, enough: (received: Buffer) => boolean): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 15_000);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
      if (options.end === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // A server that closes after answering does so right away; give the FIN a moment to land.
      if (enough(received)) setImmediate(() => finish(socket.readableEnded || socket.destroyed));
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Where the final head from `from` starts and ends (end -1: not whole yet); interim 1xx answers (100 Continue) are skipped. */
function finalHead(buf: Buffer, from = 0): { readonly start: number; readonly end: number } {
  let start = from;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', start);
    if (end < 0 || !/^HTTP\/1\.[01] 1\d\d/.test(buf.subarray(start, start + 12).toString('latin1'))) return { start, end };
    start = end + 4;
  }
}

type Parsed = Omit<RawResponse, 'closed'> & { readonly next: number };

/** The response at `from`, and where the next one starts; undefined while it is not whole. */
function parseAt(buf: Buffer, from: number): Parsed | undefined {
  const { start, end } = finalHead(buf, from);
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.subarray(start, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const next = end + 4 + Number(headers['content-length'] ?? '0');
  if (buf.length < next) return undefined;
  return { status: status === null ? undefined : Number(status[1]), headers, body: buf.subarray(end + 4, next).toString('utf8'), next };
}

/**
 * Sends bytes as given and reads every response until the server closes the connection (or
 * `timeoutMs` passes): for pipelined requests, where what matters is each answer the server gave.
 */
export async function rawExchange(port: number, parts: ReadonlyArray<string | Buffer>, timeoutMs = 30_000): Promise<{ readonly responses: ReadonlyArray<Omit<RawResponse, 'closed'>>; readonly closed: boolean }> {
  const { received, closed } = await converse(port, parts, { timeoutMs }, () => false);
  const responses: Array<Omit<RawResponse, 'closed'>> = [];
  for (let r = parseAt(received, 0); r !== undefined; r = parseAt(received, r.next)) responses.push({ status: r.status, headers: r.headers, body: r.body });
  return { responses, closed };
}

/** A client that opens a connection and trickles `bytes` one at a time, `everyMs` apart, until the server closes it. */
export interface Trickle {
  readonly socket: Socket;
  /** How many bytes went out before the server closed the connection. */
  sent(): number;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  /** Whatever the server answered before closing. */
  received(): string;
  stop(): void;
}

export function trickle(port: number, bytes: Buffer, everyMs: number): Trickle {
  const socket = connect({ host: '127.0.0.1', port });
  let i = 0;
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('connect', () => {
    timer = setInterval(() => {
      if (i >= bytes.length || socket.destroyed) return;
      socket.write(bytes.subarray(i, i + 1));
      i++;
    }, everyMs);
  });
  return { socket, sent: () => i, closed, received: () => received, stop: () => (clearInterval(timer), socket.destroy()) };
}
