import type { CostModel, ProcessUsage, Stage, StageCost } from './run-report.js';

/** Votes each stage handled during the load: what its CPU seconds are divided by. */
export type StageVotes = Readonly<Record<Stage, number>>;

/** The order stages are listed in: the pipeline first, then the services under it, then the load. */
export const STAGE_ORDER: readonly Stage[] = ['gateway', 'dedup', 'count', 'persist', 'feed', 'broker', 'redis', 'dynamodb', 'generator'];

const PIPELINE: ReadonlySet<Stage> = new Set<Stage>(['gateway', 'dedup', 'count', 'persist', 'feed']);
const SERVICES: ReadonlySet<Stage> = new Set<Stage>(['broker', 'redis', 'dynamodb']);

const round = (x: number, step: number): number => Math.round(x / step) * step;
// Rounding by a step leaves binary noise (0.1 * 3 = 0.30000000000000004); fixing the digits keeps the JSON clean.
const round1 = (x: number): number => Number(round(x, 0.1).toFixed(1));
const round2 = (x: number): number => Number(round(x, 0.01).toFixed(2));
const round3 = (x: number): number => Number(round(x, 0.001).toFixed(3));

/**
 * What each stage costs per vote and how many cores it would take at the target rate, from the
 * CPU the run's processes used. Several processes may serve one stage (two dedup workers): their
 * CPU is summed. A stage with no process is left out; a stage with CPU but 0 votes is listed with
 * 0 µs/vote and 0 cores (nothing to divide by: that CPU was start-up or idle, not per-vote work).
 * The totals are summed from the unrounded figures and rounded once, so they may differ from the
 * sum of the rounded rows by 0.01. The generator is listed (it is useful to see what the load cost)
 * but never in a total: it is the load, not the system.
 */
export function costModel(processes: readonly ProcessUsage[], votes: StageVotes, targetVotesPerSecond = 250_000): CostModel {
  const cpu = new Map<Stage, number>();
  for (const p of processes) cpu.set(p.stage, (cpu.get(p.stage) ?? 0) + Math.max(0, p.cpuSeconds));

  const stages: StageCost[] = [];
  let pipeline = 0;
  let services = 0;
  for (const stage of STAGE_ORDER) {
    const cpuSeconds = cpu.get(stage);
    if (cpuSeconds === undefined) continue;
    const n = votes[stage];
    const micros = n > 0 ? (cpuSeconds * 1e6) / n : 0;
    const cores = (micros * targetVotesPerSecond) / 1e6;
    if (PIPELINE.has(stage)) pipeline += cores;
    if (SERVICES.has(stage)) services += cores;
    stages.push({ stage, votes: n, cpuSeconds: round3(cpuSeconds), cpuMicrosPerVote: round1(micros), coresAtTarget: round2(cores) });
  }
  return {
    targetVotesPerSecond,
    stages,
    pipelineCoresWithoutBroker: round2(pipeline),
    allCores: round2(pipeline + services),
  };
}
