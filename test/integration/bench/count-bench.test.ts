import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCountBenchmark } from '../../../benchmarks/count-benchmark.js';
import { checkRedisCounts, deletePrefixKeys, expectedCounts } from '../../../benchmarks/count-run.js';
import { BenchmarkError } from '../../../benchmarks/errors.js';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { createLogger } from '../../../runtime/logger.js';
import { countsKey, regionsKey } from '../../../voting/redis-keys.js';
import type { Vote } from '../../../voting/vote.js';
import { services, uniquePrefix } from '../../support/services.js';

/**
 * `bench count` (benchmarks/count-benchmark.ts, count-run.ts) against the real stack: a small run
 * through a real `worker --roles count` process, its Redis counts checked and its keys removed.
 * Needs the build (the worker runs dist/cli/main.js). Throughput is not asserted: the machine is shared.
 */

let redis: Redis;

beforeAll(() => {
  redis = new Redis(services().redis, { maxRetriesPerRequest: 3 });
});

afterAll(() => {
  redis.disconnect();
});

const vote = (voterId: string, candidateId: string, region?: string): Vote => ({
  voteId: '00000000-0000-4000-a000-000000000001',
  electionId: 'e1',
  voterId,
  candidateId,
  ts: 1_763_800_000_000,
  ...(region !== undefined ? { region } : {}),
});

describe('bench count', () => {
  it('counts 3000 accepted votes with one worker, checks every Redis count exactly and removes its keys', async () => {
    const driver = new PlatformaticKafkaDriver({ brokers: services().brokers, clientId: 'it-bench-count' });
    const result = await runCountBenchmark({
      driver,
      brokers: services().brokers,
      redis: services().redis,
      logger: createLogger({ level: 'warn', name: 'it-bench-count' }),
      votes: 3000,
      partitions: 6,
      processes: [1],
      timeoutMs: 120_000,
      command: 'test',
      cliPath: resolve('dist/cli/main.js'),
    });
    expect(result.runs).toHaveLength(1);
    const run = result.runs[0];
    expect(run.votes).toBe(3000);
    // 3 elections: 6 candidates + _total, and 4 regions x 6 candidates, each field compared once.
    expect(run.fieldsChecked).toBe(3 * (7 + 24));
    expect(result.figures['1 process: Redis counts']).toBe(`exact (${run.fieldsChecked} fields)`);
    expect(run.votesPerSecond).toBeGreaterThan(0);
    // 3000 votes may all land in the first commit, leaving no steady state to measure.
    if (run.steadyVotesPerSecond !== undefined) expect(run.steadyVotesPerSecond).toBeGreaterThan(0);
    expect(result.figures['1 process: votes/s']).toBeGreaterThan(0);
    expect(run.workerCpuMicrosPerVote).toBeGreaterThan(0);
    expect(run.commits).toBeGreaterThan(0);
    expect(run.meanCommitMs).toBeGreaterThan(0);
    expect(run.keysLeft).toBe(0);
    const [, left] = await redis.scan('0', 'MATCH', `${run.prefix}*`, 'COUNT', 10_000);
    expect(left).toEqual([]);
  }, 300_000);

  it('fails with BENCHMARK_OUTPUT when a Redis count differs from the input', async () => {
    const prefix = uniquePrefix('count-check');
    const votes = [vote('v1', 'c1', 'N'), vote('v2', 'c1'), vote('v3', 'c2', 'S')];
    try {
      await redis.hset(countsKey('e1', prefix), { c1: '2', c2: '1', _total: '3' });
      await redis.hset(regionsKey('e1', prefix), { 'N:c1': '1', 'S:c2': '1' });
      await expect(checkRedisCounts(redis, prefix, expectedCounts(votes))).resolves.toBe(5);

      await redis.hset(regionsKey('e1', prefix), { 'E:c3': '1' });
      const err = await checkRedisCounts(redis, prefix, expectedCounts(votes)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BenchmarkError);
      expect((err as BenchmarkError).code).toBe('BENCHMARK_OUTPUT');
      expect((err as BenchmarkError).message).toContain('E:c3: 1, expected none');
    } finally {
      expect(await deletePrefixKeys(redis, prefix)).toBe(0);
    }
  });
});
