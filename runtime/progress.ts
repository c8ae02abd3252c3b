import { SingleBar } from 'cli-progress';

/**
 * Progress of long work (benchmarks, restores, rebuilds): a bar with rate and ETA on a terminal,
 * nothing at all when stderr is not a TTY or CI is set. Callers also log and export metrics, so
 * non-interactive runs lose no information.
 */
export interface Progress {
  /** Sets the absolute amount done. */
  update(done: number): void;
  increment(by?: number): void;
  setTotal(total: number): void;
  stop(): void;
}

export function interactive(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && !process.env.CI;
}

export function createProgress(label: string, total: number, options: { unit?: string; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (!interactive(stream)) {
    return { update: () => undefined, increment: () => undefined, setTotal: () => undefined, stop: () => undefined };
  }
  const unit = options.unit ?? 'records';
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
    stream,
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  });
  const started = Date.now();
  let value = 0;
  const rate = () => Math.round(value / Math.max(0.001, (Date.now() - started) / 1000)).toLocaleString('en-US');
  bar.start(total, 0, { rate: '0' });
  return {
    update(done) {
      value = done;
      bar.update(done, { rate: rate() });
    },
    increment(by = 1) {
      value += by;
      bar.update(value, { rate: rate() });
    },
    setTotal(t) {
      bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}
