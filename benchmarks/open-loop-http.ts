import { Agent, request } from 'node:http';
import * as hdr from 'hdr-histogram-js';

export interface OpenLoopOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly rate: number;
  readonly durationS: number;
  readonly connections: number;
  /** The i-th request: path, headers and body. */
  readonly requestFor: (i: number) => { readonly path: string; readonly headers: Record<string, string>; readonly body: string };
}

export interface OpenLoopResult {
  readonly offered: number;
  readonly completed: number;
  readonly statuses: ReadonlyMap<number, number>;
  readonly elapsedS: number;
  /** Microseconds from each request's intended send time (not its actual one) to its response. */
  readonly latencyUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
}

/**
 * An open-loop load (as wrk2): request i is due at start + i/rate, and its latency runs from that
 * instant, so a server that falls behind is charged for the whole queue it built (no coordinated
 * omission). Requests wait for one of `connections` keep-alive sockets when all are busy.
 */
export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const statuses = new Map<number, number>();
  const total = Math.round(o.rate * o.durationS);
  let sent = 0;
  let completed = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const done = (intended: number, status: number): void => {
      histogram.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (++completed === total) resolve();
    };
    const fire = (i: number, intended: number): void => {
      const { path, headers, body } = o.requestFor(i);
      const req = request({ host: target.hostname, port: target.port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => done(intended, res.statusCode ?? 0));
      });
      req.on('error', () => done(intended, 0));
      req.end(body);
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / o.rate <= now) {
        fire(sent, start + (sent * 1000) / o.rate);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    if (total === 0) resolve();
    else tick();
  });
  const elapsedS = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    offered: total,
    completed,
    statuses,
    elapsedS,
    latencyUs: { p50: histogram.getValueAtPercentile(50), p90: histogram.getValueAtPercentile(90), p99: histogram.getValueAtPercentile(99), max: histogram.maxValue },
  };
}
