/**
 * `votestream bench peers` end to end on a small input: our dedup on @platformatic/kafka and on
 * kafkajs, the Kafka Streams peer (built by Maven on first use) and the broker's own tools, on the
 * real broker. Each streams contender's outputs are checked record by record inside the bench (a
 * difference fails it); here the exact counts, every figure the issues name, and the exactly-once
 * cost where it is fixed by the driver (producers open, transactions per commit) are asserted,
 * never a speed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContenderRun, PeersBenchmarkResult } from '../../benchmarks/peers/peers-benchmark.js';
import { DEFAULT_PARTITIONS } from '../../voting/topics.js';
import { cliEnv, runCliAsync } from '../support/cli.js';
import { services } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'votestream-bench-peers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The run table `bench peers` prints last. */
const table = (stdout: string): string => stdout.slice(stdout.indexOf('| round | contender |'));

/** One worker, one stream thread: one producer with KIP-447, one per partition without it (all 12 are the worker's). */
function expectCost(run: ContenderRun, driver: 'platformatic' | 'kafkajs'): void {
  expect(run.driver).toBe(driver);
  const cost = run.cost!;
  expect(cost.driver).toBe(driver);
  expect(cost.workers).toHaveLength(1);
  expect(cost.commits).toBeGreaterThan(0);
  expect(cost.brokerConnections).toBe(cost.workers[0].brokerConnections);
  if (driver === 'platformatic') {
    expect(cost.transactionalProducers).toBe(1);
    expect(cost.transactions).toBe(cost.commits);
    expect(cost.transactionsPerCommit).toBe(1);
    expect(cost.brokerConnections).toBeGreaterThan(0);
  } else {
    expect(cost.transactionalProducers).toBe(DEFAULT_PARTITIONS);
    // One transaction per partition with work: at least one, at most every partition.
    expect(cost.transactionsPerCommit).toBeGreaterThanOrEqual(1);
    expect(cost.transactionsPerCommit).toBeLessThanOrEqual(DEFAULT_PARTITIONS);
    // Every kafkajs producer is a client of its own, with its own connection.
    expect(cost.brokerConnections).toBeGreaterThanOrEqual(DEFAULT_PARTITIONS);
  }
}

/** A small peers run (3,000 votes, one round) with the harness on platformatic whatever the shell says; its JSON result. */
async function runPeers(jsonName: string, args: readonly string[]): Promise<{ r: Awaited<ReturnType<typeof runCliAsync>>; result: PeersBenchmarkResult }> {
  const json = join(dir, jsonName);
  const r = await runCliAsync([...args, '--votes', '3000', '--rounds', '1', '--duplicates', '0.2', '--out-dir', dir, '--json', json], cliEnv(services(), { KAFKA_DRIVER: 'platformatic' }), 900_000);
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  console.log(table(r.stdout));
  return { r, result: JSON.parse(readFileSync(json, 'utf8')) as PeersBenchmarkResult };
}

describe('votestream bench peers', () => {
  it('votestream on both drivers, Kafka Streams and the broker: exact outputs, votes/s, CPU µs/vote, p99, ratios and the exactly-once cost', async () => {
    const { r, result } = await runPeers('peers.json', ['bench', 'peers', '--contenders', 'votestream,votestream-kafkajs,kafka-streams,broker', '--probe-rate', '200', '--probe-seconds', '2']);
    expect(result.parameters.driver).toBe('platformatic');
    expect(result.runs.map((x) => x.contender)).toStrictEqual(['votestream', 'votestream-kafkajs', 'kafka-streams', 'broker', 'broker']);
    for (const run of result.runs.filter((x) => x.contender !== 'broker')) {
      // 3,000 votes, 600 of them duplicates, plus 400 fresh voters from the latency probe.
      expect(run.votes).toBe(3000);
      expect(run.accepted).toBe(2400 + 400);
      expect(run.rejected).toBe(600);
      expect(run.votesPerSecond).toBeGreaterThan(0);
      expect(run.cpuMicrosPerVote).toBeGreaterThan(0);
      expect(run.p99Ms).toBeGreaterThan(0);
    }
    const [ours, onKafkajs, kafkaStreams] = result.runs;
    expectCost(ours, 'platformatic');
    expectCost(onKafkajs, 'kafkajs');
    expect(kafkaStreams.driver).toBeUndefined();
    expect(kafkaStreams.cost).toBeUndefined();
    const [produced, consumed] = result.runs.filter((x) => x.contender === 'broker');
    expect(produced.votes).toBe(3000);
    expect(consumed.votes).toBeGreaterThanOrEqual(3000);
    expect(produced.p99Ms).toBeGreaterThan(0);
    for (const name of [
      'votestream / kafka-streams: votes/s ratio',
      'votestream / kafka-streams: CPU per vote ratio',
      'votestream-kafkajs / votestream: votes/s ratio',
      'votestream-kafkajs / votestream: CPU per vote ratio',
      'votestream-kafkajs / kafka-streams: votes/s ratio',
      'votestream-kafkajs / kafka-streams: CPU per vote ratio',
      'votestream-kafkajs (kafkajs): votes/s (median)',
      'votestream-kafkajs (kafkajs): CPU µs/vote',
      'votestream-kafkajs (kafkajs): p99 ms (probe)',
      'broker ProducerPerformance: records/s (median)',
      'broker ConsumerPerformance: records/s (median)',
    ]) {
      expect(result.figures[name], name).toBeGreaterThan(0);
    }
    expect(result.figures['votestream (platformatic): transactional producers open']).toBe(1);
    expect(result.figures['votestream (platformatic): transactions per commit']).toBe(1);
    expect(result.figures['votestream-kafkajs (kafkajs): transactional producers open']).toBe(DEFAULT_PARTITIONS);
    expect(table(r.stdout)).toContain(`| 1 | votestream-kafkajs (kafkajs) | 3,000 | ${onKafkajs.votesPerSecond.toLocaleString('en-US')} |`);
  });

  it('--driver kafkajs: the votestream contender\'s workers run on kafkajs', async () => {
    const { result } = await runPeers('peers-kafkajs.json', ['--driver', 'kafkajs', 'bench', 'peers', '--contenders', 'votestream', '--probe-rate', '0']);
    expect(result.parameters.driver).toBe('kafkajs');
    expect(result.runs.map((x) => x.contender)).toStrictEqual(['votestream']);
    const [run] = result.runs;
    expect(run.accepted).toBe(2400);
    expect(run.rejected).toBe(600);
    expectCost(run, 'kafkajs');
  });
});
