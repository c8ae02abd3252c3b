/**
 * What `bench feed` and its client processes (benchmarks/feed-clients.ts) say to each other over
 * the fork IPC channel. Times are epoch milliseconds with a fraction (`performance.timeOrigin +
 * performance.now()`), comparable across processes of one machine.
 */

export type FeedTransport = 'ws' | 'sse';

/** Parent -> client process. */
export type ToClients =
  /** Open `count` streams to `url`, `ratePerS` new ones a second at most. */
  | { readonly type: 'connect'; readonly url: string; readonly transport: FeedTransport; readonly count: number; readonly ratePerS: number }
  /** The bench published the update that made the counts' `_total` equal `total`, at `atMs`. */
  | { readonly type: 'published'; readonly total: number; readonly atMs: number }
  /** Close everything and answer with a `result`. */
  | { readonly type: 'finish' };

/** How the streams of one client process are doing, sent every progress tick. */
export interface ClientProgress {
  /** Streams that got their first snapshot. */
  readonly connected: number;
  /** Streams that never got a first snapshot (refused, error, timeout). */
  readonly failed: number;
  /** Streams that got a first snapshot and were closed later (by the feed or an error). */
  readonly closed: number;
  /** Snapshots received after the first one, over all streams. */
  readonly messages: number;
  /** Open streams whose latest snapshot covers `announced`. */
  readonly caughtUp: number;
  /** The latest update the parent announced to this process (`published`) when it counted. */
  readonly announced: number;
}

/** A client process's final account. */
export interface ClientResult extends ClientProgress {
  readonly transport: FeedTransport;
  /** Why streams failed or closed, e.g. `ws close 4008 slow-consumer`, `sse status 503`: count each. */
  readonly reasons: Record<string, number>;
  /** Per-update latencies in microseconds, hdr-histogram-js compressed base64. */
  readonly histogram: string;
  /** Updates received whose publish time never came (should be 0). */
  readonly unmatched: number;
  /** Snapshots whose total went down, or repeated the previous one. */
  readonly outOfOrder: number;
  readonly repeated: number;
}

/** Client process -> parent. */
export type FromClients = ({ readonly type: 'progress' } & ClientProgress) | ({ readonly type: 'result' } & ClientResult);
