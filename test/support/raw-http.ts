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
export function rawRequest(port: number, parts: ReadonlyArray<string | Buffer>, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(received), closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 15_000);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
      if (options.end === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (complete(received)) {
        // A server that closes after answering does so right away; give the FIN a moment to land.
        setImmediate(() => finish(socket.readableEnded || socket.destroyed));
      }
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Where the final head starts and ends (end -1: not whole yet); interim 1xx answers (100 Continue) are skipped. */
function finalHead(buf: Buffer): { readonly start: number; readonly end: number } {
  let start = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', start);
    if (end < 0 || !/^HTTP\/1\.[01] 1\d\d/.test(buf.subarray(start, start + 12).toString('latin1'))) return { start, end };
    start = end + 4;
  }
}

function complete(buf: Buffer): boolean {
  const { start, end } = finalHead(buf);
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(start, end).toString('latin1'));
  return buf.length >= end + 4 + (length === null ? 0 : Number(length[1]));
}

function parseResponse(buf: Buffer): Omit<RawResponse, 'closed'> {
  const { start, end } = finalHead(buf);
  if (end < 0) return { status: undefined, headers: {}, body: '' };
  const [statusLine, ...lines] = buf.subarray(start, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? '0');
  return { status: status === null ? undefined : Number(status[1]), headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') };
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
