/**
 * Resident memory of a process, sampled from /proc/<pid>/status (VmRSS; Linux) every interval:
 * the peak, and the samples themselves so that RSS can be read against progress.
 */
import { readFileSync } from 'node:fs';

export interface RssSample {
  /** Milliseconds since sampling started. */
  readonly atMs: number;
  readonly rssMiB: number;
  /** Whatever the caller's `progress()` returned at that moment (e.g. records processed). */
  readonly progress: number;
}

export interface RssSampler {
  peakMiB(): number;
  samples(): readonly RssSample[];
  stop(): void;
}

/** VmRSS of a live process in MiB, or undefined when it is gone (or not Linux). */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

export function sampleRss(pid: number, options: { intervalMs?: number; progress?: () => number } = {}): RssSampler {
  const started = Date.now();
  const samples: RssSample[] = [];
  let peak = 0;
  const take = (): void => {
    const rss = rssMiB(pid);
    if (rss === undefined) return;
    peak = Math.max(peak, rss);
    samples.push({ atMs: Date.now() - started, rssMiB: Math.round(rss * 10) / 10, progress: options.progress?.() ?? 0 });
  };
  take();
  const timer = setInterval(take, options.intervalMs ?? 1000);
  timer.unref();
  return {
    peakMiB: () => Math.round(peak * 10) / 10,
    samples: () => samples,
    stop: () => clearInterval(timer),
  };
}
