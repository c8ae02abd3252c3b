import { describe, expect, it } from 'vitest';
import { ANOMALY_NAMES, formatChaosReport, sumAnomalies, type ChaosReport } from '../../../benchmarks/chaos/chaos-report.js';
import { applicableFaults, faultSchedule, FAULT_KINDS } from '../../../benchmarks/chaos/fault-schedule.js';

describe('chaos fault schedule', () => {
  it('injects every kind exactly `repeat` times, with pauses in range, the same for the same seed', () => {
    const o = { seed: 7, kinds: FAULT_KINDS, repeat: 3, minPauseMs: 1000, maxPauseMs: 2000 };
    const a = faultSchedule(o);
    expect(a).toHaveLength(FAULT_KINDS.length * 3);
    for (const kind of FAULT_KINDS) expect(a.filter((f) => f.kind === kind)).toHaveLength(3);
    for (const f of a) {
      expect(f.pauseMs).toBeGreaterThanOrEqual(1000);
      expect(f.pauseMs).toBeLessThanOrEqual(2000);
      expect(f.pick).toBeGreaterThanOrEqual(0);
      expect(f.pick).toBeLessThan(1);
    }
    expect(faultSchedule(o)).toEqual(a);
    expect(faultSchedule({ ...o, seed: 8 }).map((f) => f.kind)).not.toEqual(a.map((f) => f.kind));
  });

  it('offers a broker kill only with three brokers, a master kill only on a cluster, a data-losing restart only on a single node', () => {
    expect(applicableFaults({ kafkaBrokers: 1, redisCluster: false })).toEqual(FAULT_KINDS.filter((k) => k !== 'kill-broker' && k !== 'kill-redis-master'));
    expect(applicableFaults({ kafkaBrokers: 3, redisCluster: true })).toEqual(FAULT_KINDS.filter((k) => k !== 'redis-restart-lose-data'));
  });
});

describe('chaos report', () => {
  const checks = [
    { name: 'acknowledged votes on `votes`', ok: false, detail: '9 of 10', anomalies: { 'lost-write': 1 }, examples: ['v-10'] },
    { name: 'audit invariants e1', ok: false, detail: 'x', anomalies: { duplicate: 2, 'lost-write': 3 } },
    { name: 'no process crashed', ok: true, detail: '0 unexpected exit(s)', anomalies: {} },
  ];

  it('sums anomalies over the checks under every Jepsen name, zero where none', () => {
    expect(sumAnomalies(checks)).toEqual({ ...Object.fromEntries(ANOMALY_NAMES.map((n) => [n, 0])), 'lost-write': 4, duplicate: 2 });
  });

  it('prints the faults with their times, every check and the verdict', () => {
    const report: ChaosReport = {
      ok: false,
      logDir: '/tmp/chaos/pipeline-logs',
      seed: 42,
      quick: true,
      startedAt: '2026-12-03T10:00:00.000Z',
      elapsedS: 200,
      stack: { kafkaBrokers: 1, redisCluster: false, dynamodbPersist: false, workers: 2 },
      load: { rate: 150, durationS: 100, elections: ['e1', 'e2'], offered: 15000, acknowledged: 14000, failed: 1000, statuses: { '202': 14000, '503': 1000 } },
      faults: [{ kind: 'kill-worker', target: 'worker-1', injectedAtMs: 5000, healedAtMs: 8500, detail: 'kill -9 pid 1; restarted as pid 2 with its state dir' }],
      crashes: [],
      drainS: 12.5,
      recoveries: { fenced: 3, other: 5 },
      checks,
      anomalies: sumAnomalies(checks),
    };
    const text = formatChaosReport(report);
    expect(text).toContain('seed 42');
    expect(text).toContain('    5.0s ->    8.5s  kill-worker  worker-1: kill -9 pid 1; restarted as pid 2 with its state dir');
    expect(text).toContain('by kind: kill-worker x1');
    expect(text).toContain('15000 offered, 14000 acknowledged (202), 1000 refused or failed (202: 14000, 503: 1000)');
    expect(text).toContain('FAIL  acknowledged votes on `votes`  9 of 10');
    expect(text).toContain('          v-10');
    expect(text).toContain('anomalies: lost-write 4, duplicate 2, unexpected 0, miscount 0, broken-chain 0, recount-mismatch 0, inconsistent-offsets 0, unavailable 0, crash 0');
    expect(text).toContain('workers recovered 3 times from a fenced transaction and 5 times from other failures');
    expect(text).toContain("verdict: FAIL (200 s); the processes' logs are in /tmp/chaos/pipeline-logs");
  });
});
