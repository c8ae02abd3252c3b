/**
 * The shape of one `votestream bench run`: what the JSON file holds and what the Markdown summary,
 * the SVG charts and the cost model are made from. Every time is in milliseconds unless named
 * otherwise; every rate is per second.
 */
import type { MachineInfo } from '../result.js';

export type Via = 'kafka' | 'http';

/** Where CPU is spent: the pipeline's stages, the services under them, and the bench itself. */
export type Stage = 'gateway' | 'dedup' | 'count' | 'persist' | 'feed' | 'broker' | 'redis' | 'dynamodb' | 'generator';

export interface LatencySummary {
  /** Votes the figure is over (those due after the warm-up). */
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  /** The percentile curve (HdrHistogram's, 0..100), for the distribution chart. */
  readonly distribution: ReadonlyArray<{ readonly percentile: number; readonly ms: number }>;
}

/** One second of the run (t = seconds since the first vote was due, ending at that second). */
export interface SecondSample {
  readonly t: number;
  /** Votes due in this second by the schedule. */
  readonly offered: number;
  readonly sent: number;
  /** Acknowledged by Kafka (--via kafka) or answered 202 by the gateway (--via http). */
  readonly acknowledged: number;
  readonly failed: number;
  /** Records of each stage's group committed in this second. */
  readonly dedup: number;
  readonly count: number;
  readonly persist: number;
  /** Consumer lag (records) of each group at the end of the second. */
  readonly lag: { readonly dedup: number; readonly count: number; readonly persist: number };
  /** The `_total` in Redis summed over the run's elections, and the latest the feed pushed. */
  readonly redisTotal: number;
  readonly feedTotal: number;
}

export interface ProcessUsage {
  readonly name: string;
  readonly stage: Stage;
  readonly pid: number;
  /** CPU seconds (user + system) used during the load (from the first vote due until drained). */
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
  /** Started by this run (false: a stack service it measured but did not start). */
  readonly startedByRun: boolean;
}

/** A worker's commits over the run, from its /metrics: how its work was batched. */
export interface StageCommits {
  readonly stage: Stage;
  readonly commits: number;
  readonly meanCommitMs: number;
  readonly aborts: number;
  /** Records the stage consumed per commit, on average. */
  readonly recordsPerCommit: number;
}

export interface StageCost {
  readonly stage: Stage;
  /** Votes the stage handled (what its CPU is divided by). */
  readonly votes: number;
  readonly cpuSeconds: number;
  readonly cpuMicrosPerVote: number;
  /** cpuMicrosPerVote x target / 1e6. */
  readonly coresAtTarget: number;
}

export interface CostModel {
  readonly targetVotesPerSecond: number;
  readonly stages: readonly StageCost[];
  /** gateway (when used) + dedup + count + persist + feed. */
  readonly pipelineCoresWithoutBroker: number;
  /** The above + broker + Redis + DynamoDB Local. */
  readonly allCores: number;
}

export interface GeneratorSummary {
  readonly generators: number;
  /** Votes the schedule held (warm-up included). */
  readonly offered: number;
  readonly sent: number;
  readonly acknowledged: number;
  /** Never acknowledged (produce error, or a gateway answer other than 202): not expected in the counts. */
  readonly failed: number;
  readonly offeredPerSecond: number;
  /** Votes sent / seconds from the first due time to the last send. */
  readonly achievedPerSecond: number;
  /** How far behind its schedule a generator fell at worst. */
  readonly maxBehindMs: number;
  /** false when the generators fell more than 1 s behind: the rate offered was not the rate asked for. */
  readonly keptSchedule: boolean;
  /** Intended send -> acknowledgement. */
  readonly ackLatency: LatencySummary;
  /** Gateway answers by status (--via http). */
  readonly statuses: Readonly<Record<string, number>>;
}

export interface Verdict {
  readonly passed: boolean;
  /** Distinct first valid votes acknowledged, per election. */
  readonly expectedTotal: number;
  readonly redisTotal: number;
  readonly redisExact: boolean;
  readonly dynamodbTotal: number;
  /** DynamoDB held every expected vote within the bound (when not, its check is inconclusive, not failed). */
  readonly dynamodbDrained: boolean;
  /** Drained and equal to the expected counts. */
  readonly dynamodbExact: boolean;
  /** ms from the end of the load until DynamoDB held every vote (or the bound, when it did not). */
  readonly dynamodbDrainMs: number;
  readonly dynamodbDrainBoundMs: number;
  readonly acceptedRecords: number;
  readonly rejectedRecords: number;
  /** What differs, one line each; empty when passed. */
  readonly problems: readonly string[];
  /** What could not be checked (DynamoDB still behind at the bound), one line each. */
  readonly notes: readonly string[];
}

export interface RunParameters {
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly voters: number;
  readonly dupRatio: number;
  readonly elections: number;
  readonly candidates: number;
  readonly regions: number;
  readonly partitions: number;
  readonly via: Via;
  readonly generators: number;
  readonly guarantee: string;
}

export interface RunReport {
  readonly benchmark: 'run';
  readonly command: string;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly parameters: RunParameters;
  readonly generator: GeneratorSummary;
  /** Over the measured window (after the warm-up, until the last vote was due). */
  readonly throughput: { readonly acknowledged: number; readonly dedup: number; readonly count: number; readonly persist: number };
  readonly latency: {
    /** How a vote's arrival is told: see benchmarks/run/arrival-latency.ts. */
    readonly method: string;
    readonly toRedis: LatencySummary;
    readonly toFeed: LatencySummary;
  };
  readonly seconds: readonly SecondSample[];
  readonly processes: readonly ProcessUsage[];
  readonly commits: readonly StageCommits[];
  readonly cost: CostModel;
  readonly verdict: Verdict;
}
