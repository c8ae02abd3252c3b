/**
 * `votestream bench peers` end to end on a small input: our dedup, the Kafka Streams peer (built by
 * Maven on first use) and the broker's own tools, on the real broker. Each streams contender's
 * outputs are checked record by record inside the bench (a difference fails it); here the exact
 * counts and every figure the issue names are asserted, never a speed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PeersBenchmarkResult } from '../../benchmarks/peers/peers-benchmark.js';
import { cliEnv, runCliAsync } from '../support/cli.js';
import { services } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'votestream-bench-peers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('votestream bench peers', () => {
  it('votestream, Kafka Streams and the broker: exact outputs, votes/s, CPU µs/vote, p99 and ratios', async () => {
    const json = join(dir, 'peers.json');
    const r = await runCliAsync(
      ['bench', 'peers', '--votes', '3000', '--rounds', '1', '--duplicates', '0.2', '--contenders', 'votestream,kafka-streams,broker', '--probe-rate', '200', '--probe-seconds', '2', '--out-dir', dir, '--json', json],
      cliEnv(services()),
      900_000,
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as PeersBenchmarkResult;
    expect(result.runs.map((x) => x.contender)).toStrictEqual(['votestream', 'kafka-streams', 'broker', 'broker']);
    for (const run of result.runs.filter((x) => x.contender !== 'broker')) {
      // 3,000 votes, 600 of them duplicates, plus 400 fresh voters from the latency probe.
      expect(run.votes).toBe(3000);
      expect(run.accepted).toBe(2400 + 400);
      expect(run.rejected).toBe(600);
      expect(run.votesPerSecond).toBeGreaterThan(0);
      expect(run.cpuMicrosPerVote).toBeGreaterThan(0);
      expect(run.p99Ms).toBeGreaterThan(0);
    }
    const [produced, consumed] = result.runs.filter((x) => x.contender === 'broker');
    expect(produced.votes).toBe(3000);
    expect(consumed.votes).toBeGreaterThanOrEqual(3000);
    expect(produced.p99Ms).toBeGreaterThan(0);
    for (const name of ['votestream / kafka-streams: votes/s ratio', 'votestream / kafka-streams: CPU per vote ratio', 'broker ProducerPerformance: records/s (median)', 'broker ConsumerPerformance: records/s (median)']) {
      expect(result.figures[name], name).toBeGreaterThan(0);
    }
  });
});
