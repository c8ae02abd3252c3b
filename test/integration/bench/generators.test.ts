import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { benchPrefix, deleteBenchTopics, provisionBenchTopics } from '../../../benchmarks/bench-input.js';
import { signHs256Token } from '../../../benchmarks/run/generator-process.js';
import { startGenerators, type GeneratorTick } from '../../../benchmarks/run/generators.js';
import { planElections, VotePlan, type VotePlanOptions } from '../../../benchmarks/run/vote-plan.js';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { issueToken } from '../../../voting/gateway/token-issuer.js';
import { topicNames } from '../../../voting/topics.js';
import { decodeVote } from '../../../voting/vote.js';
import { resolve } from 'node:path';
import { startBenchProcess, type BenchWorker } from '../../../benchmarks/worker-processes.js';
import { readAll } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import { services } from '../../support/services.js';

/**
 * The bench run's load generators (benchmarks/run/generators.ts, generator-process.ts) against the
 * real broker: two child processes share one plan and together put exactly the plan into `votes`.
 * Needs the build (the children run dist/benchmarks/run/generator-process.js).
 */

const prefixes: string[] = [];
let driver: PlatformaticKafkaDriver;

afterAll(async () => {
  if (driver !== undefined) for (const p of prefixes) await deleteBenchTopics(driver, p);
});

describe('vote generators', () => {
  it('signs tokens exactly as the token issuer does', async () => {
    const secret = randomBytes(32).toString('base64url');
    const want = await issueToken({ voterId: 'vr-1', electionId: 'r-e1', ttlSec: 3600, algorithm: 'HS256', key: secret, nowSec: 1_800_000_000 });
    expect(signHs256Token(secret, 'vr-1', 'r-e1', 1_800_000_000, 3600)).toBe(want);
  });

  it('two generators via kafka send every planned vote exactly once, on schedule', async () => {
    driver = new PlatformaticKafkaDriver({ brokers: services().brokers, clientId: 'it-bench-generators' });
    const prefix = benchPrefix('gen');
    prefixes.push(prefix);
    const plan: VotePlanOptions = { runId: `g${Date.now().toString(36)}`, rate: 500, durationS: 2, warmupS: 0, voters: 1_000_000, dupRatio: 0.2, elections: 2, candidates: 3, regions: 2, seed: 5 };
    await provisionBenchTopics(driver, prefix, 6, planElections(plan, Date.now()));
    const votesTopic = topicNames(prefix).votes;
    const startAt = Date.now() + 3000;
    const ticks: GeneratorTick[] = [];
    const gens = startGenerators({ count: 2, config: { plan, startAt, via: 'kafka', kafka: { brokers: services().brokers, topic: votesTopic } }, onTick: (t) => ticks.push(t) });
    expect(gens.pids).toHaveLength(2);
    let done;
    try {
      done = await gens.done;
    } finally {
      await gens.stop();
    }
    const expected = new VotePlan(plan);
    expect(expected.total).toBe(1000);
    expect(done).toMatchObject({ sent: 1000, acknowledged: 1000, failed: 0, statuses: {} });
    expect(done.failedIndices.size).toBe(0);
    expect(done.ackHistogram.totalCount).toBe(1000);
    expect(done.lastSendAt).toBeGreaterThanOrEqual(startAt + expected.dueMs(999) - 1);
    expect(ticks.map((t) => t.t).slice(0, 2)).toEqual([1, 2]);
    expect(ticks.every((t, k) => k === 0 || t.sent >= ticks[k - 1].sent)).toBe(true);

    const records = await readAll(driver, votesTopic, 1000, 60_000);
    expect(records).toHaveLength(1000);
    const byVoteId = new Map<string, number>();
    const lastDue = startAt + expected.dueMs(expected.total - 1);
    for (const r of records) {
      const decoded = decodeVote(r.value);
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) continue;
      const v = decoded.vote;
      expect(r.key?.toString('utf8')).toBe(v.voterId);
      expect(v.ts).toBeGreaterThanOrEqual(startAt);
      expect(v.ts).toBeLessThanOrEqual(lastDue);
      byVoteId.set(v.voteId, (byVoteId.get(v.voteId) ?? 0) + 1);
    }
    // Every planned vote, once, with its planned content (ts aside).
    for (const p of expected.votes()) {
      expect(byVoteId.get(p.vote.voteId)).toBe(1);
    }
    const planned = new Map([...expected.votes()].map((p) => [p.vote.voteId, p.vote]));
    for (const r of records) {
      const decoded = decodeVote(r.value);
      if (!decoded.ok) continue;
      const want = planned.get(decoded.vote.voteId)!;
      expect({ ...decoded.vote, ts: 0 }).toEqual(want);
      // The intended send time, to the ms.
      const i = [...planned.keys()].indexOf(decoded.vote.voteId);
      expect(decoded.vote.ts).toBe(Math.floor(startAt + expected.dueMs(i)));
    }
  });

  it('two generators via http: every vote answered 202 by a real gateway and in votes once', async () => {
    driver ??= new PlatformaticKafkaDriver({ brokers: services().brokers, clientId: 'it-bench-generators' });
    const prefix = benchPrefix('genhttp');
    prefixes.push(prefix);
    const plan: VotePlanOptions = { runId: `h${Date.now().toString(36)}`, rate: 300, durationS: 2, warmupS: 0, voters: 1_000_000, dupRatio: 0.2, elections: 2, candidates: 3, regions: 2, seed: 9 };
    await provisionBenchTopics(driver, prefix, 6, planElections(plan, Date.now()));
    const secret = randomBytes(32).toString('base64url');
    let url: string | undefined;
    const gateway: BenchWorker = startBenchProcess({
      name: 'gateway',
      cliPath: resolve('dist/cli/main.js'),
      args: ['gateway', '--host', '127.0.0.1', '--port', '0', '--ip-rate', '1e9', '--ip-burst', '1e9', '--voter-rate', '1e9', '--voter-burst', '1000000000', '--max-in-flight', '100000'],
      env: { KAFKA_BROKERS: services().brokers, VOTESTREAM_TOPIC_PREFIX: prefix, VOTESTREAM_TOKEN_SECRET: secret, LOG_LEVEL: 'warn' },
      onStdout: (line) => {
        url ??= /gateway listening on (http:\/\/[\d.]+:\d+)/.exec(line)?.[1];
      },
    });
    try {
      await waitUntil(async () => url !== undefined && (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)), () => 'the gateway to be ready', { timeoutMs: 30_000, intervalMs: 200 });
      const startAt = Date.now() + 2000;
      const gens = startGenerators({ count: 2, config: { plan, startAt, via: 'http', http: { url: url!, connections: 16 } }, env: { VOTESTREAM_TOKEN_SECRET: secret } });
      let done;
      try {
        done = await gens.done;
      } finally {
        await gens.stop();
      }
      const expected = new VotePlan(plan);
      expect(done).toMatchObject({ sent: expected.total, acknowledged: expected.total, failed: 0, statuses: { '202': expected.total } });
      const records = await readAll(driver, topicNames(prefix).votes, expected.total, 60_000);
      expect(records).toHaveLength(expected.total);
      const planned = new Map([...expected.votes()].map((p) => [p.vote.voteId, p.vote]));
      const seen = new Set<string>();
      for (const r of records) {
        const decoded = decodeVote(r.value);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) continue;
        const v = decoded.vote;
        expect(r.key?.toString('utf8')).toBe(v.voterId);
        expect(seen.has(v.voteId)).toBe(false);
        seen.add(v.voteId);
        // ts: when the gateway accepted it.
        expect(v.ts).toBeGreaterThanOrEqual(startAt - 5);
        expect(v.ts).toBeLessThanOrEqual(done.lastSendAt + 60_000);
        expect({ ...v, ts: 0 }).toEqual(planned.get(v.voteId));
      }
      expect(seen.size).toBe(expected.total);
    } finally {
      await gateway.stop(5000);
    }
  });

  it('rejects with the child stderr when a generator cannot start its work', async () => {
    const gens = startGenerators({
      count: 1,
      config: { plan: { runId: 'x', rate: 10, durationS: 1, warmupS: 0, voters: 10, dupRatio: 0, elections: 1, candidates: 1, regions: 0 }, startAt: Date.now(), via: 'http', http: { url: 'http://127.0.0.1:9' } },
      env: { VOTESTREAM_TOKEN_SECRET: '' },
    });
    await expect(gens.done).rejects.toThrow(/VOTESTREAM_TOKEN_SECRET/);
    await gens.stop();
  });
});
