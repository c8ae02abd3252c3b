import { describe, expect, it } from 'vitest';
import { costModel } from '../../../benchmarks/run/cost-model.js';
import type { ProcessUsage, Stage } from '../../../benchmarks/run/run-report.js';

const proc = (name: string, stage: Stage, cpuSeconds: number): ProcessUsage => ({ name, stage, pid: 1, cpuSeconds, peakRssMiB: 100, startedByRun: true });
const votes = { gateway: 1_000_000, dedup: 1_000_000, count: 800_000, persist: 800_000, feed: 800_000, broker: 1_000_000, redis: 800_000, dynamodb: 800_000, generator: 1_000_000 };

describe('bench run: cost model', () => {
  it('sums CPU per stage, divides by the stage votes and scales to 250,000 votes/s; the generator is in no total', () => {
    const c = costModel(
      [
        proc('gateway-1', 'gateway', 1.5),
        proc('gateway-2', 'gateway', 0.5),
        proc('dedup', 'dedup', 10),
        proc('count', 'count', 4),
        proc('persist', 'persist', 8),
        proc('feed', 'feed', 0.3),
        proc('kafka', 'broker', 12),
        proc('redis', 'redis', 1),
        proc('generator', 'generator', 5),
      ],
      votes,
    );
    expect(c.targetVotesPerSecond).toBe(250_000);
    expect(c.stages).toEqual([
      { stage: 'gateway', votes: 1_000_000, cpuSeconds: 2, cpuMicrosPerVote: 2, coresAtTarget: 0.5 },
      { stage: 'dedup', votes: 1_000_000, cpuSeconds: 10, cpuMicrosPerVote: 10, coresAtTarget: 2.5 },
      { stage: 'count', votes: 800_000, cpuSeconds: 4, cpuMicrosPerVote: 5, coresAtTarget: 1.25 },
      { stage: 'persist', votes: 800_000, cpuSeconds: 8, cpuMicrosPerVote: 10, coresAtTarget: 2.5 },
      { stage: 'feed', votes: 800_000, cpuSeconds: 0.3, cpuMicrosPerVote: 0.4, coresAtTarget: 0.09 },
      { stage: 'broker', votes: 1_000_000, cpuSeconds: 12, cpuMicrosPerVote: 12, coresAtTarget: 3 },
      { stage: 'redis', votes: 800_000, cpuSeconds: 1, cpuMicrosPerVote: 1.3, coresAtTarget: 0.31 },
      // No DynamoDB process measured: no row (not a row of zeros that would read as "free").
      { stage: 'generator', votes: 1_000_000, cpuSeconds: 5, cpuMicrosPerVote: 5, coresAtTarget: 1.25 },
    ]);
    // Totals from the unrounded cores: 0.5 + 2.5 + 1.25 + 2.5 + 0.09375, then + 3 + 0.3125.
    expect(c.pipelineCoresWithoutBroker).toBe(6.84);
    expect(c.allCores).toBe(10.16);
  });

  it('gives a stage that handled no votes 0 µs/vote and 0 cores, and takes another target', () => {
    const c = costModel([proc('gateway', 'gateway', 3), proc('dedup', 'dedup', 10)], { ...votes, gateway: 0 }, 100_000);
    expect(c.stages).toEqual([
      { stage: 'gateway', votes: 0, cpuSeconds: 3, cpuMicrosPerVote: 0, coresAtTarget: 0 },
      { stage: 'dedup', votes: 1_000_000, cpuSeconds: 10, cpuMicrosPerVote: 10, coresAtTarget: 1 },
    ]);
    expect(c.pipelineCoresWithoutBroker).toBe(1);
    expect(c.allCores).toBe(1);
  });

  it('is empty, not NaN, with no processes', () => {
    expect(costModel([], votes)).toEqual({ targetVotesPerSecond: 250_000, stages: [], pipelineCoresWithoutBroker: 0, allCores: 0 });
  });
});
