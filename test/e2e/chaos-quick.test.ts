/**
 * `votestream chaos --quick`, the reduced chaos run of issue 15 inside `npm test`: on a stack of its
 * own (single nodes, port offset 1000), every fault that stack allows is injected once under load
 * through the gateway, and the run is judged by audit recount, invariants and verify. Exact: zero
 * of every anomaly, every check named and passed, every fault kind injected exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { ChaosReport } from '../../benchmarks/chaos/chaos-report.js';
import { ANOMALY_NAMES } from '../../benchmarks/chaos/chaos-report.js';
import { applicableFaults } from '../../benchmarks/chaos/fault-schedule.js';
import { checkAcknowledged } from '../../benchmarks/chaos/chaos-checks.js';
import { voteRecords } from '../../benchmarks/bench-input.js';
import { topicNames } from '../../voting/topics.js';
import { cliEnv, runCliAsync } from '../support/cli.js';
import { createVotingTopics, produce, testDriver } from '../support/kafka-io.js';
import { services, uniquePrefix } from '../support/services.js';

describe('votestream chaos --quick', () => {
  it('finds no anomaly after every single-node fault under load', { timeout: 900_000 }, async () => {
    const r = await runCliAsync(['chaos', '--quick', '--seed', '20261203', '--json'], cliEnv({}, { LOG_LEVEL: 'info' }), 880_000);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as ChaosReport;
    const failed = (report.checks ?? []).filter((c) => !c.ok);
    expect(failed, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`).toEqual([]);
    expect(r.status).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.anomalies).toEqual(Object.fromEntries(ANOMALY_NAMES.map((n) => [n, 0])));

    const kinds = applicableFaults({ kafkaBrokers: 1, redisCluster: false });
    expect(report.faults.map((f) => f.kind).sort()).toEqual([...kinds].sort());
    for (const f of report.faults) expect(f.healedAtMs).toBeGreaterThan(f.injectedAtMs);

    const [e1, e2] = report.load.elections;
    const perElection = (e: string): string[] => [`audit recount ${e}`, `audit invariants ${e}`, `group offsets ${e}`, `audit verify ${e}`, `live count = official ${e}`, `live page = official ${e}`];
    expect(report.checks.map((c) => c.name)).toEqual(['drained', 'acknowledged votes on `votes`', ...perElection(e1), ...perElection(e2), 'every fault healed', 'no process crashed']);
    expect(report.load.acknowledged).toBeGreaterThan(0);
    expect(report.load.acknowledged + report.load.failed).toBe(report.load.offered);
    expect(report.crashes).toEqual([]);
    // The zombie, the kill and the outage reach the commit path: the workers say they recovered.
    expect(report.recoveries.fenced + report.recoveries.other).toBeGreaterThan(0);
  });

  it('its acknowledged-votes check names a vote the gateway acknowledged that `votes` does not hold', async () => {
    // The judge must be able to convict: three votes on the topic, four acknowledged.
    const s = services();
    const driver = testDriver(s.brokers);
    const prefix = uniquePrefix('chaoscheck');
    await createVotingTopics(driver, prefix, 2);
    const votes = [1, 2, 3].map((n) => ({ electionId: 'e1', voterId: `v${n}`, candidateId: 'c1', voteId: `00000000-0000-4000-8000-00000000000${n}`, ts: 1 }));
    await produce(driver, voteRecords(topicNames(prefix).votes, votes));
    const missing = '00000000-0000-4000-8000-000000000009';
    const check = await checkAcknowledged(driver, prefix, new Set([...votes.map((v) => v.voteId), missing]));
    expect(check).toEqual({
      name: 'acknowledged votes on `votes`',
      ok: false,
      detail: '3 of 4 acknowledged votes found among 3 records',
      anomalies: { 'lost-write': 1 },
      examples: [missing],
    });
  });
});
