import { interactive } from '../../runtime/progress.js';
import type { SecondSample } from './run-report.js';

export interface RunProgress {
  /** Called once per second of the run with that second's sample and what is known of the latency so far. */
  update(s: SecondSample, extra: { p99ToRedisMs?: number }): void;
  /** Leaves the terminal on a fresh line (the live line stays, as the last state seen). */
  stop(): void;
}

export interface RunProgressOptions {
  /** Measured seconds, after the warm-up (as RunParameters.durationS). */
  readonly durationS: number;
  readonly warmupS: number;
  /** Nothing at all, TTY or not. */
  readonly quiet?: boolean;
  /** Default process.stderr: stdout may carry the JSON. */
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between lines when the stream is not a terminal (CI logs). */
  readonly logEveryS?: number;
}

const rate = (x: number): string => (Number.isFinite(x) ? (x >= 10_000 ? `${Math.round(x / 1000)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x))) : '?');
const clock = (s: number): string => {
  const t = Math.max(0, Math.round(Number.isFinite(s) ? s : 0));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
};

/** One status line: the same text is redrawn on a terminal and printed every 10 s elsewhere. */
export function progressLine(s: SecondSample, extra: { p99ToRedisMs?: number }, o: { durationS: number; warmupS: number }): string {
  const total = o.warmupS + o.durationS;
  const phase = s.t <= o.warmupS && o.warmupS > 0 ? 'warm-up' : s.t <= total ? 'load' : 'draining';
  const eta = s.t < total ? `ETA ${clock(total - s.t)}` : 'load done';
  const lag = s.lag.dedup + s.lag.count + s.lag.persist;
  const p99 = extra.p99ToRedisMs !== undefined && Number.isFinite(extra.p99ToRedisMs) ? `${extra.p99ToRedisMs < 10 ? extra.p99ToRedisMs.toFixed(1) : Math.round(extra.p99ToRedisMs)} ms` : '–';
  return (
    `run ${clock(s.t)}/${clock(total)} ${phase} (${eta}) | offered ${rate(s.offered)}/s ack ${rate(s.acknowledged)}/s` +
    `${s.failed > 0 ? ` failed ${rate(s.failed)}/s` : ''} | dedup ${rate(s.dedup)} count ${rate(s.count)} persist ${rate(s.persist)}/s` +
    ` | lag ${rate(lag)} | p99 to Redis ${p99}`
  );
}

/**
 * The run's live status. On a terminal (runtime/progress.ts's rule: a TTY and no CI) one line is
 * redrawn in place; otherwise one line every 10 s, since a run lasts minutes and a silent CI log
 * cannot be told from a hung one. Not cli-progress: the figures are several rates, not a fraction done.
 */
export function createRunProgress(o: RunProgressOptions): RunProgress {
  const stream = o.stream ?? process.stderr;
  if (o.quiet === true) return { update: () => undefined, stop: () => undefined };
  const live = interactive(stream);
  const every = o.logEveryS ?? 10;
  let lastLoggedT = -Infinity;
  let drawn = false;
  return {
    update(s, extra) {
      const line = progressLine(s, extra, o);
      if (live) {
        // Cut to the terminal's width: a wrapped line cannot be redrawn in place with \r.
        const width = stream.columns > 0 ? stream.columns - 1 : line.length;
        stream.write(`\r${line.slice(0, width)}\x1b[K`);
        drawn = true;
      } else if (s.t - lastLoggedT >= every) {
        stream.write(`${line}\n`);
        lastLoggedT = s.t;
      }
    },
    stop() {
      if (live && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
