/**
 * Count throughput, the yardstick for "count path (votes-accepted -> Redis): at least 150,000
 * votes/s per process": N accepted votes, generated once (seeded, several elections, candidates and
 * regions), written straight to a fresh prefix's `votes-accepted` for every process count, and
 * counted by `votestream worker --roles count` from nothing. Every run's Redis hashes are checked
 * field by field; a difference fails the benchmark. With `profile`, one more 1-process run under
 * --cpu-prof, summarized; it is left out of the other figures (the profiler slows it down).
 */
import { stackConfig } from '../infra/stack-config.js';
import { stackStatus } from '../infra/stack.js';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { topicNames } from '../voting/topics.js';
import { generateVotes, sampleElections } from '../voting/vote-generator.js';
import { recordsInput } from './bench-input.js';
import { acceptedVoteRecords, expectedCounts, runCountOnce, type CountRunResult } from './count-run.js';
import { profiledRun, type ProfileSummary } from './cpu-profile.js';
import { round2 } from './dedup-run.js';
import { machineInfo, type BenchmarkResult } from './result.js';

export interface CountBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly redis: string;
  readonly logger: Logger;
  readonly votes: number;
  readonly partitions: number;
  readonly processes: readonly number[];
  readonly elections?: number;
  readonly candidates?: number;
  readonly profile?: boolean;
  /** Added to every worker's command line (e.g. --processing-guarantee at_least_once). */
  readonly workerArgs?: readonly string[];
  /** Where --cpu-prof writes; default benchmarks/out/profiles. */
  readonly profileDir?: string;
  readonly timeoutMs: number;
  readonly command: string;
  readonly cliPath?: string;
}

export type CountBenchmarkFigures = Record<string, number | string>;

export interface CountBenchmarkResult extends BenchmarkResult<CountBenchmarkFigures> {
  readonly runs: readonly CountRunResult[];
  readonly profile?: ProfileSummary;
}

/**
 * The Redis server's pid when it is the local stack's and the run uses it; a Redis elsewhere cannot
 * be measured from here.
 */
async function localRedisPid(redis: string): Promise<number | undefined> {
  const status = await stackStatus(stackConfig()).catch(() => undefined);
  return status !== undefined && status.redis.address === redis ? status.redis.pid : undefined;
}

export async function runCountBenchmark(o: CountBenchmarkOptions): Promise<CountBenchmarkResult> {
  const log = o.logger.child({ benchmark: 'count' });
  const elections = sampleElections(o.elections ?? 3, { candidates: o.candidates ?? 6 });
  // Accepted votes are one per (election, voter): the dedup stage has already dropped the repeats.
  const generated = generateVotes({ count: o.votes, duplicateRatio: 0, elections, seed: 42 });
  const input = recordsInput(o.driver, acceptedVoteRecords(topicNames('').votesAccepted, generated.votes, o.partitions));
  const expected = expectedCounts(generated.votes);
  const redisPid = await localRedisPid(o.redis);
  log.info({ votes: input.count, elections: elections.length, redisPid }, 'accepted votes generated');

  const common = { driver: o.driver, brokers: o.brokers, redis: o.redis, logger: log, partitions: o.partitions, elections, input, expected, timeoutMs: o.timeoutMs, workerArgs: o.workerArgs, cliPath: o.cliPath };
  const figures: CountBenchmarkFigures = {};
  const runs: CountRunResult[] = [];
  let produceRate = 0;
  for (const processes of o.processes) {
    const run = await runCountOnce({ ...common, processes, label: `${processes}p`, ...(redisPid !== undefined ? { redisPid } : {}) });
    runs.push(run);
    produceRate = Math.max(produceRate, run.votes / run.produceSeconds);
    const name = `${processes} process${processes > 1 ? 'es' : ''}`;
    figures[`${name}: votes/s`] = Math.round(run.votesPerSecond);
    figures[`${name}: votes/s per process`] = Math.round(run.votesPerSecond / processes);
    const oneCommit = 'n/a (the first commit held every vote)';
    figures[`${name}: votes/s after first commit (no start-up)`] = run.steadyVotesPerSecond === undefined ? oneCommit : Math.round(run.steadyVotesPerSecond);
    figures[`${name}: wall s (start-up s)`] = `${round2(run.wallSeconds)} (${round2(run.startupSeconds)})`;
    figures[`${name}: worker CPU µs/vote (from start; after first commit)`] = `${round2(run.workerCpuMicrosPerVote)}; ${run.workerSteadyCpuMicrosPerVote === undefined ? oneCommit : round2(run.workerSteadyCpuMicrosPerVote)}`;
    figures[`${name}: Redis CPU µs/vote`] = run.redisCpuMicrosPerVote === undefined ? 'n/a (not the local stack)' : round2(run.redisCpuMicrosPerVote);
    figures[`${name}: commits, aborts, mean commit ms`] = `${run.commits}, ${run.aborts}, ${round2(run.meanCommitMs)}`;
    figures[`${name}: Redis counts`] = `exact (${run.fieldsChecked} fields)`;
  }
  figures['producer (input, untimed) votes/s'] = Math.round(produceRate);

  let profile: ProfileSummary | undefined;
  if (o.profile === true) {
    profile = await profiledRun({ dir: o.profileDir ?? 'benchmarks/out/profiles', name: 'count', label: '1 process', logger: log }, figures, async (execArgv) =>
      (await runCountOnce({ ...common, processes: 1, label: '1p --cpu-prof', worker0ExecArgv: execArgv })).votesPerSecond,
    );
  }

  return {
    benchmark: 'count',
    command: o.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    parameters: { votes: o.votes, partitions: o.partitions, processes: o.processes.join(','), elections: elections.length, candidates: elections[0].candidates.length, regions: elections[0].regions.length, workerArgs: (o.workerArgs ?? []).join(' '), profile: o.profile === true },
    figures,
    runs,
    ...(profile !== undefined ? { profile } : {}),
  };
}
