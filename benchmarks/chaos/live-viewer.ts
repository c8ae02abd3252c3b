/**
 * A voter watching the live page through the whole chaos run: one SSE stream per election from the
 * feed, opened again (after a second) whenever it ends, as the page's EventSource does when the feed
 * is killed. It keeps the last snapshot of each election, which the verdict compares with the
 * official recount: what a voter finally sees must be the result.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { onSseData } from '../sse-data.js';

export interface LiveSnapshot {
  readonly total: number;
  readonly counts: Readonly<Record<string, number>>;
}

export class LiveViewer {
  /** Streams opened, over all elections: one each at start, one more after each loss. */
  connections = 0;
  readonly #latest = new Map<string, LiveSnapshot>();
  readonly #open = new Set<ClientRequest | IncomingMessage>();
  #stopped = false;

  constructor(
    private readonly feedUrl: string,
    electionIds: readonly string[],
  ) {
    for (const e of electionIds) this.#watch(e);
  }

  latest(electionId: string): LiveSnapshot | undefined {
    return this.#latest.get(electionId);
  }

  /** Until `matches` holds for the election's latest snapshot, or the timeout; returns the last one. */
  async until(electionId: string, matches: (s: LiveSnapshot) => boolean, timeoutMs: number): Promise<LiveSnapshot | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.#latest.get(electionId);
      if ((s !== undefined && matches(s)) || Date.now() > deadline) return s;
      await sleep(200);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const r of this.#open) r.destroy();
    this.#open.clear();
  }

  #watch(electionId: string): void {
    if (this.#stopped) return;
    this.connections++;
    let retried = false;
    const again = (): void => {
      if (retried || this.#stopped) return;
      retried = true;
      setTimeout(() => this.#watch(electionId), 1000).unref();
    };
    const req = request(new URL(`/v1/elections/${encodeURIComponent(electionId)}/events`, this.feedUrl), { headers: { accept: 'text/event-stream' } }, (res) => {
      this.#open.add(res);
      onSseData(res, (data) => {
        try {
          const s = JSON.parse(data) as { type?: string; total?: unknown; counts?: unknown };
          if (s.type === 'snapshot' && typeof s.total === 'number') this.#latest.set(electionId, { total: s.total, counts: (s.counts ?? {}) as Record<string, number> });
        } catch {
          // not a snapshot
        }
      });
      const closed = (): void => {
        this.#open.delete(res);
        again();
      };
      res.on('end', closed);
      res.on('close', closed);
      res.on('error', closed);
    });
    this.#open.add(req);
    req.on('error', () => {
      this.#open.delete(req);
      again();
    });
    req.on('close', () => this.#open.delete(req));
    req.end();
  }
}
