/**
 * Memory (issue 4): one worker process dedups `voters` distinct voters (one vote each, so its
 * `voters` store ends up holding all of them) while its resident set (VmRSS) is sampled every
 * second. Reported: the peak, and RSS against the number of votes committed at every `step`, so a
 * run smaller than the goal still shows how memory grows with the store. Goal: peak < 512 MiB at
 * 5,000,000 voters.
 */
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import type { ProcessingGuarantee } from '../runtime/streams-config.js';
import { distinctVotesInput } from './bench-input.js';
import { round2, runDedupOnce } from './dedup-run.js';
import { machineInfo, type BenchmarkResult } from './result.js';
import { sampleElections } from '../voting/vote-generator.js';

export interface MemoryBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly logger: Logger;
  readonly voters: number;
  readonly partitions: number;
  readonly guarantee?: ProcessingGuarantee;
  /** RSS is reported at every multiple of this. Default 500,000. */
  readonly step?: number;
  readonly timeoutMs: number;
  readonly command: string;
}

export type MemoryBenchmarkFigures = Record<string, number | string>;

export async function runMemoryBenchmark(o: MemoryBenchmarkOptions): Promise<BenchmarkResult<MemoryBenchmarkFigures>> {
  const log = o.logger.child({ benchmark: 'memory' });
  const step = o.step ?? 500_000;
  const guarantee = o.guarantee ?? 'exactly_once_v2';
  const elections = sampleElections(3);
  const run = await runDedupOnce({
    processes: 1,
    guarantee,
    driver: o.driver,
    brokers: o.brokers,
    logger: log,
    label: 'memory',
    partitions: o.partitions,
    elections,
    input: distinctVotesInput(o.driver, o.voters, elections),
    timeoutMs: o.timeoutMs,
    sampleRss: true,
  });
  const samples = run.rss!.samples();
  const figures: MemoryBenchmarkFigures = {
    'voters in the store (one vote each)': o.voters,
    'peak RSS MiB': run.rss!.peakMiB(),
    'goal: peak RSS < 512 MiB at 5,000,000 voters': o.voters >= 5_000_000 ? (run.rss!.peakMiB() < 512 ? 'met' : 'NOT met') : `not measured at 5,000,000 (ran ${o.voters.toLocaleString('en-US')})`,
    'RSS MiB at start (first sample)': samples[0]?.rssMiB ?? 0,
  };
  for (let at = step; at <= o.voters; at += step) {
    // The peak up to the first sample at or past `at` votes committed.
    const upTo = samples.findIndex((s) => s.progress >= at);
    const seen = upTo < 0 ? samples : samples.slice(0, upTo + 1);
    figures[`peak RSS MiB up to ${at.toLocaleString('en-US')} votes`] = Math.max(...seen.map((s) => s.rssMiB));
  }
  figures['dedup votes/s during the run'] = Math.round(run.recordsPerSecond);
  figures['wall s'] = round2(run.wallSeconds);
  log.info({ samples: samples.length, peakMiB: run.rss!.peakMiB(), figures }, 'memory finished');
  return {
    benchmark: 'memory',
    command: o.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    parameters: { voters: o.voters, partitions: o.partitions, guarantee, step },
    figures,
  };
}
