import type { Cancellable, Punctuator } from '../topology/processor.js';
import type { ProcessorNode } from './processor-node.js';

interface Schedule {
  readonly node: ProcessorNode;
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  nextMs: number;
  cancelled: boolean;
}

/**
 * The punctuations of one task for one time type, with Kafka Streams' semantics: each due schedule
 * fires at most once per call, with the current time, and missed intervals are skipped, not replayed.
 */
export class PunctuationQueue {
  #schedules: Schedule[] = [];

  add(node: ProcessorNode, firstMs: number, intervalMs: number, punctuator: Punctuator): Cancellable {
    const schedule: Schedule = { node, intervalMs, punctuator, nextMs: firstMs, cancelled: false };
    this.#schedules.push(schedule);
    return {
      cancel: () => {
        schedule.cancelled = true;
        this.#schedules = this.#schedules.filter((s) => s !== schedule);
      },
    };
  }

  /** Fires every schedule due at `nowMs`, earliest first; returns how many fired. */
  async punctuate(nowMs: number): Promise<number> {
    const due = this.#schedules.filter((s) => s.nextMs <= nowMs).sort((a, b) => a.nextMs - b.nextMs);
    let fired = 0;
    for (const schedule of due) {
      if (schedule.cancelled) continue;
      const missed = Math.floor((nowMs - schedule.nextMs) / schedule.intervalMs);
      schedule.nextMs += (missed + 1) * schedule.intervalMs;
      await schedule.node.punctuate(schedule.punctuator, nowMs);
      fired++;
    }
    return fired;
  }

  clear(): void {
    for (const schedule of this.#schedules) schedule.cancelled = true;
    this.#schedules = [];
  }
}
