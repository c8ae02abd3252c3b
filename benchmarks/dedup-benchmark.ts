/**
 * Dedup throughput (issue 4): N votes with a share of duplicates, generated once, produced to a
 * fresh prefix for every (processes, guarantee) combination, and run through `votestream worker
 * --roles dedup` from an empty state. Records/s = votes / (worker start -> all of `votes`
 * committed); each combination is also given as a ratio of the (1 process, exactly_once_v2) run of
 * the same invocation. Every run's outputs are checked record by record; a difference fails the
 * benchmark. With `profile`, one more run (1 process, exactly_once_v2) is made under --cpu-prof and
 * its self time summarized; that run is not in the ratios (the profiler slows it down).
 */
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import type { ProcessingGuarantee } from '../runtime/streams-config.js';
import { topicNames } from '../voting/topics.js';
import { recordsInput, voteRecords } from './bench-input.js';
import { profiledRun, type ProfileSummary } from './cpu-profile.js';
import { round2, runDedupOnce } from './dedup-run.js';
import { machineInfo, type BenchmarkResult } from './result.js';
import { generateVotes, sampleElections } from '../voting/vote-generator.js';

export interface DedupBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly logger: Logger;
  readonly votes: number;
  readonly duplicateRatio: number;
  readonly partitions: number;
  readonly processes: readonly number[];
  readonly guarantees: readonly ProcessingGuarantee[];
  readonly elections?: number;
  readonly profile?: boolean;
  /** Added to every worker's command line (e.g. --no-overlap-commits). */
  readonly workerArgs?: readonly string[];
  /** Where --cpu-prof writes; default benchmarks/out/profiles. */
  readonly profileDir?: string;
  readonly timeoutMs: number;
  readonly command: string;
}

export type DedupBenchmarkFigures = Record<string, number | string>;

export interface DedupBenchmarkResult extends BenchmarkResult<DedupBenchmarkFigures> {
  readonly profile?: ProfileSummary;
}

const short = (g: ProcessingGuarantee): string => (g === 'exactly_once_v2' ? 'eos' : 'alos');

export async function runDedupBenchmark(o: DedupBenchmarkOptions): Promise<DedupBenchmarkResult> {
  const log = o.logger.child({ benchmark: 'dedup' });
  const elections = sampleElections(o.elections ?? 3);
  const generated = generateVotes({ count: o.votes, duplicateRatio: o.duplicateRatio, elections, seed: 42 });
  const records = voteRecords(topicNames('').votes, generated.votes);
  const input = recordsInput(o.driver, records);
  const expected = { firstVoteIds: generated.firstVoteIds, duplicates: generated.duplicates };
  log.info({ votes: records.length, distinct: generated.firstVoteIds.size, duplicates: generated.duplicates }, 'votes generated');

  // The baseline first, so that every ratio has its denominator even if a later run fails.
  const combos: Array<{ processes: number; guarantee: ProcessingGuarantee }> = [];
  for (const processes of o.processes) for (const guarantee of o.guarantees) combos.push({ processes, guarantee });
  combos.sort((a, b) => Number(b.processes === 1 && b.guarantee === 'exactly_once_v2') - Number(a.processes === 1 && a.guarantee === 'exactly_once_v2'));

  const figures: DedupBenchmarkFigures = {};
  let baseline: number | undefined;
  let produceRate = 0;
  for (const c of combos) {
    const label = `${c.processes}p ${short(c.guarantee)}`;
    const run = await runDedupOnce({ ...c, driver: o.driver, brokers: o.brokers, logger: log, label, partitions: o.partitions, elections, input, expected, timeoutMs: o.timeoutMs, workerArgs: o.workerArgs });
    produceRate = Math.max(produceRate, run.votes / run.produceSeconds);
    if (c.processes === 1 && c.guarantee === 'exactly_once_v2') baseline = run.recordsPerSecond;
    const name = `${c.processes} process${c.processes > 1 ? 'es' : ''} ${c.guarantee}`;
    figures[`${name}: votes/s`] = Math.round(run.recordsPerSecond);
    figures[`${name}: wall s (start-up s)`] = `${round2(run.wallSeconds)} (${round2(run.startupSeconds)})`;
    figures[`${name}: commits, aborts, mean commit ms`] = `${run.commits}, ${run.aborts}, ${round2(run.meanCommitMs)}`;
    if (baseline !== undefined) figures[`${name}: ratio to 1 process exactly_once_v2`] = round2(run.recordsPerSecond / baseline);
    figures[`${name}: outputs`] = `exact (${run.accepted} accepted, ${run.rejected} rejected)`;
  }
  figures['producer (input, untimed) votes/s'] = Math.round(produceRate);

  let profile: ProfileSummary | undefined;
  if (o.profile === true) {
    profile = await profiledRun({ dir: o.profileDir ?? 'benchmarks/out/profiles', name: 'dedup', label: '1 process exactly_once_v2', logger: log }, figures, async (execArgv) =>
      (await runDedupOnce({
      processes: 1,
      guarantee: 'exactly_once_v2',
      driver: o.driver,
      brokers: o.brokers,
      logger: log,
      label: '1p eos --cpu-prof',
      partitions: o.partitions,
      elections,
      input,
      expected,
      timeoutMs: o.timeoutMs,
      workerArgs: o.workerArgs,
      worker0ExecArgv: execArgv,
    })).recordsPerSecond,
    );
  }

  return {
    benchmark: 'dedup',
    command: o.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    parameters: { votes: o.votes, duplicates: o.duplicateRatio, partitions: o.partitions, processes: o.processes.join(','), guarantees: o.guarantees.join(','), elections: elections.length, profile: o.profile === true },
    figures,
    ...(profile !== undefined ? { profile } : {}),
  };
}
