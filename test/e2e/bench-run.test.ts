/**
 * `votestream bench run`, the short CI run of issue 13: the whole pipeline under an open-loop load,
 * through Kafka and through the gateway. Asserts that the JSON holds every figure the issue names
 * and that the verdict is exact, with exact counts; never a timed assertion (speed is measured by
 * the bench, not tested).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LatencySummary, RunReport, Stage } from '../../benchmarks/run/run-report.js';
import { cliEnv, runCliAsync } from '../support/cli.js';
import { services } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'votestream-bench-run-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectLatency(l: LatencySummary, count: number): void {
  expect(l.count).toBe(count);
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const) expect(l[k], k).toBeGreaterThan(0);
  expect(l.p50).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.max);
  expect(l.distribution.length).toBeGreaterThan(10);
}

async function benchRun(name: string, args: readonly string[]): Promise<{ report: RunReport; stdout: string; out: string }> {
  const out = join(dir, name);
  const json = join(dir, `${name}.json`);
  const s = services();
  const r = await runCliAsync(['bench', 'run', ...args, '--json', json, '--out', out], cliEnv(s), 600_000);
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return { report: JSON.parse(readFileSync(json, 'utf8')) as RunReport, stdout: r.stdout, out };
}

function expectCommon(report: RunReport, votes: number, dupRatio: number, stages: readonly Stage[]): void {
  const g = report.generator;
  // Every vote of the schedule was sent and acknowledged: nothing dropped at this rate.
  expect(g.offered).toBe(votes);
  expect(g.sent).toBe(votes);
  expect(g.acknowledged).toBe(votes);
  expect(g.failed).toBe(0);
  expectLatency(g.ackLatency, votes);

  const v = report.verdict;
  expect(v.problems).toStrictEqual([]);
  expect(v.passed).toBe(true);
  expect(v.notes).toStrictEqual([]);
  expect(v.redisExact && v.dynamodbDrained && v.dynamodbExact).toBe(true);
  // Distinct voters are the accepted ones, the rest are the duplicates, and both stores hold exactly them.
  expect(v.acceptedRecords + v.rejectedRecords).toBe(votes);
  expect(v.rejectedRecords).toBeGreaterThan(votes * dupRatio * 0.5);
  expect(v.rejectedRecords).toBeLessThan(votes * dupRatio * 1.5);
  expect(v.expectedTotal).toBe(v.acceptedRecords);
  expect(v.redisTotal).toBe(v.expectedTotal);
  expect(v.dynamodbTotal).toBe(v.expectedTotal);

  // Latencies to Redis and to the feed, over the votes due after the warm-up.
  expect(report.latency.toRedis.count).toBeGreaterThan(0);
  expectLatency(report.latency.toRedis, report.latency.toRedis.count);
  expectLatency(report.latency.toFeed, report.latency.toRedis.count);

  // A sample per second of the load at least, each with every figure.
  const loadSeconds = report.parameters.warmupS + report.parameters.durationS;
  expect(report.seconds.length).toBeGreaterThanOrEqual(loadSeconds);
  expect(report.seconds.reduce((n, s) => n + s.offered, 0)).toBe(votes);
  expect(report.seconds.reduce((n, s) => n + s.acknowledged, 0)).toBe(votes);
  expect(report.seconds.reduce((n, s) => n + s.dedup, 0)).toBe(votes);
  expect(report.seconds.at(-1)!.lag.dedup).toBe(0);
  for (const k of ['acknowledged', 'dedup', 'count', 'persist'] as const) expect(report.throughput[k], k).toBeGreaterThan(0);

  // CPU and RSS of every process the run started and of the stack under it.
  const byStage = new Map(report.processes.map((p) => [p.stage, p]));
  for (const stage of stages) {
    const p = byStage.get(stage);
    expect(p, stage).toBeDefined();
    expect(p!.cpuSeconds, stage).toBeGreaterThan(0);
    expect(p!.peakRssMiB, stage).toBeGreaterThan(0);
  }
  // Each worker's commits, scraped from its /metrics.
  expect(report.commits.map((k) => k.stage).sort()).toStrictEqual(['count', 'dedup', 'persist']);
  for (const k of report.commits) {
    expect(k.commits, k.stage).toBeGreaterThan(0);
    expect(k.recordsPerCommit, k.stage).toBeGreaterThan(0);
  }
  // The cost model: µs per vote and cores at 250,000 votes/s for each stage, and the totals.
  expect(report.cost.targetVotesPerSecond).toBe(250_000);
  const costs = new Map(report.cost.stages.map((c) => [c.stage, c]));
  for (const stage of stages) {
    const c = costs.get(stage)!;
    expect(c.cpuMicrosPerVote, stage).toBeGreaterThan(0);
    expect(c.coresAtTarget, stage).toBeCloseTo((c.cpuMicrosPerVote * 250_000) / 1e6, 0);
  }
  expect(report.cost.pipelineCoresWithoutBroker).toBeGreaterThan(0);
  expect(report.cost.allCores).toBeGreaterThan(report.cost.pipelineCoresWithoutBroker);
}

describe('votestream bench run', () => {
  it('--via kafka --rate 2000 --duration 10: every figure, and the counts exact in Redis and DynamoDB', async () => {
    const { report, stdout, out } = await benchRun('kafka', ['--rate', '2000', '--duration', '10', '--warmup', '2', '--dup-ratio', '0.1']);
    expect(report.parameters).toMatchObject({ rate: 2000, durationS: 10, warmupS: 2, via: 'kafka', generators: 1, partitions: 12 });
    expectCommon(report, 24_000, 0.1, ['dedup', 'count', 'persist', 'feed', 'broker', 'redis', 'dynamodb', 'generator']);
    // The Markdown summary on stdout, and the files in --out.
    expect(stdout).toContain('Verdict: PASSED');
    expect(stdout).toContain('bench run --rate 2000 --duration 10');
    for (const f of ['report.json', 'summary.md', 'throughput.svg', 'lag.svg', 'latency.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    for (const f of ['throughput.svg', 'lag.svg', 'latency.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).not.toMatch(/NaN|undefined/);
    }
  });

  it('--via http with two generators: the gateway in the pipeline and in the cost model', async () => {
    const { report } = await benchRun('http', ['--via', 'http', '--generators', '2', '--rate', '500', '--duration', '6', '--warmup', '1', '--dup-ratio', '0.2', '--elections', '2', '--candidates', '3', '--regions', '0']);
    expect(report.parameters).toMatchObject({ via: 'http', generators: 2, elections: 2 });
    expect(report.generator.statuses).toStrictEqual({ '202': 3500 });
    expectCommon(report, 3500, 0.2, ['gateway', 'dedup', 'count', 'persist', 'feed', 'broker', 'redis', 'dynamodb', 'generator']);
    expect(report.processes.filter((p) => p.stage === 'generator')).toHaveLength(2);
  });
});
