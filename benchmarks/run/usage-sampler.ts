/**
 * CPU seconds and peak RSS of every process a run measures, from /proc, once a second. CPU is
 * charged from `markStart()` (the first vote due) to `markEnd()` (the pipeline drained), so the
 * start-up of the JVM or of a worker's group join is not charged to the votes.
 */
import { cpuSeconds } from '../process-cpu.js';
import { rssMiB } from '../rss-sampler.js';
import type { ProcessUsage, Stage } from './run-report.js';

export interface MeasuredProcess {
  readonly name: string;
  readonly stage: Stage;
  readonly pid: number;
  readonly startedByRun: boolean;
}

interface Track {
  readonly p: MeasuredProcess;
  start?: number;
  last?: number;
  peakRss: number;
}

export class UsageSampler {
  readonly #tracks: Track[] = [];
  readonly #timer: NodeJS.Timeout;
  #measuring = false;

  constructor(processes: readonly MeasuredProcess[], intervalMs = 1000) {
    for (const p of processes) this.#tracks.push({ p, peakRss: 0 });
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  add(p: MeasuredProcess): void {
    const t: Track = { p, peakRss: 0 };
    if (this.#measuring) t.start = cpuSeconds(p.pid);
    this.#tracks.push(t);
  }

  markStart(): void {
    this.#measuring = true;
    for (const t of this.#tracks) {
      t.start = cpuSeconds(t.p.pid);
      t.peakRss = rssMiB(t.p.pid) ?? 0;
    }
  }

  /** Takes the last reading and stops sampling. */
  markEnd(): readonly ProcessUsage[] {
    this.#sample();
    clearInterval(this.#timer);
    this.#measuring = false;
    return this.#tracks.map((t) => ({
      name: t.p.name,
      stage: t.p.stage,
      pid: t.p.pid,
      cpuSeconds: Math.round(((t.last ?? t.start ?? 0) - (t.start ?? 0)) * 100) / 100,
      peakRssMiB: Math.round(t.peakRss * 10) / 10,
      startedByRun: t.p.startedByRun,
    }));
  }

  #sample(): void {
    if (!this.#measuring) return;
    for (const t of this.#tracks) {
      // A process that exited keeps its last reading (its CPU until then).
      const cpu = cpuSeconds(t.p.pid);
      if (cpu !== undefined) t.last = cpu;
      t.peakRss = Math.max(t.peakRss, rssMiB(t.p.pid) ?? 0);
    }
  }
}
