/**
 * What a chaos run did and found, as data (`--json`) and as the human report: the faults with
 * their times, the load, every check with its counts, and the anomalies under Jepsen's names.
 */
import type { FaultKind } from './fault-schedule.js';
import type { FaultRecord } from './faults.js';

export const ANOMALY_NAMES = [
  /** An acknowledged or expected vote that a part of the system does not hold. */
  'lost-write',
  /** A voter held more than once. */
  'duplicate',
  /** A vote held that no voter's first valid vote is. */
  'unexpected',
  /** A vote held with other content, or a count that differs from the expected count. */
  'miscount',
  /** A chain whose hashes, sequence or head do not verify (`audit verify`). */
  'broken-chain',
  /** The official recount differs from the live count in Redis. */
  'recount-mismatch',
  /** A group that did not reach the end of its input after the drain, or a fence ahead of the log. */
  'inconsistent-offsets',
  /** A process or node not ready again after its fault healed (the gateway's or feed's /readyz, a node's health). */
  'unavailable',
  /** A process that exited while nobody asked it to. */
  'crash',
] as const;

export type AnomalyName = (typeof ANOMALY_NAMES)[number];

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** Counts and what was compared, one line. */
  readonly detail: string;
  /** The anomalies this check found, by name. */
  readonly anomalies: Partial<Record<AnomalyName, number>>;
  /** The first few offending ids or findings, for whoever investigates. */
  readonly examples?: readonly string[];
}

export interface ChaosReport {
  readonly ok: boolean;
  /** Each process's JSON log lines (kept when the run fails). */
  readonly logDir: string;
  readonly seed: number;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly elapsedS: number;
  readonly stack: { readonly kafkaBrokers: number; readonly redisCluster: boolean; readonly dynamodbPersist: boolean; readonly workers: number };
  readonly load: {
    readonly rate: number;
    readonly durationS: number;
    readonly elections: readonly string[];
    readonly offered: number;
    readonly acknowledged: number;
    readonly failed: number;
    readonly statuses: Readonly<Record<string, number>>;
  };
  readonly faults: readonly FaultRecord[];
  readonly crashes: ReadonlyArray<{ readonly name: string; readonly pid: number; readonly code: number | null; readonly atMs: number }>;
  readonly drainS: number;
  /** Workers' recoveries as they logged them: fenced (a zombie's or a revoked generation's transaction), and any other failure. */
  readonly recoveries: { readonly fenced: number; readonly other: number };
  readonly checks: readonly CheckResult[];
  readonly anomalies: Readonly<Record<AnomalyName, number>>;
}

export function sumAnomalies(checks: readonly CheckResult[]): Record<AnomalyName, number> {
  const total = Object.fromEntries(ANOMALY_NAMES.map((n) => [n, 0])) as Record<AnomalyName, number>;
  for (const c of checks) for (const [name, n] of Object.entries(c.anomalies)) total[name as AnomalyName] += n ?? 0;
  return total;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`.padStart(7);

export function formatChaosReport(r: ChaosReport): string {
  const lines: string[] = [];
  const stack = `${r.stack.kafkaBrokers} broker${r.stack.kafkaBrokers === 1 ? '' : 's'}, ${r.stack.redisCluster ? 'Redis Cluster' : 'single-node Redis'}, DynamoDB Local ${r.stack.dynamodbPersist ? 'on disk' : 'in memory'}`;
  lines.push(`votestream chaos${r.quick ? ' --quick' : ''}: seed ${r.seed}, ${stack}, ${r.stack.workers} workers at start`);
  lines.push(`load: ${r.load.rate} votes/s for ${r.load.durationS} s through the gateway, elections ${r.load.elections.join(', ')}`);
  const statuses = Object.entries(r.load.statuses).map(([s, n]) => `${s}: ${n}`).join(', ');
  lines.push(`      ${r.load.offered} offered, ${r.load.acknowledged} acknowledged (202), ${r.load.failed} refused or failed${statuses === '' ? '' : ` (${statuses})`}`);
  lines.push('', `faults injected (${r.faults.length}), times from the start of the load:`);
  const width = Math.max(...r.faults.map((f) => f.kind.length), 10);
  for (const f of r.faults) lines.push(`  ${seconds(f.injectedAtMs)} -> ${seconds(f.healedAtMs)}  ${f.kind.padEnd(width)}  ${f.target}: ${f.detail}`);
  const byKind = new Map<FaultKind, number>();
  for (const f of r.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  lines.push(`  by kind: ${[...byKind].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  if (r.crashes.length > 0) {
    lines.push('', 'unexpected exits:');
    for (const c of r.crashes) lines.push(`  ${seconds(c.atMs)}  ${c.name} (pid ${c.pid}) exited with code ${c.code}`);
  }
  lines.push('', `workers recovered ${r.recoveries.fenced} times from a fenced transaction and ${r.recoveries.other} times from other failures`);
  lines.push('', `drained in ${r.drainS.toFixed(1)} s; checks:`);
  const nameWidth = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(nameWidth)}  ${c.detail}`);
    for (const e of c.examples ?? []) lines.push(`          ${e}`);
  }
  lines.push('', `anomalies: ${ANOMALY_NAMES.map((n) => `${n} ${r.anomalies[n]}`).join(', ')}`);
  lines.push(`verdict: ${r.ok ? 'PASS' : 'FAIL'} (${r.elapsedS.toFixed(0)} s)${r.ok ? '' : `; the processes' logs are in ${r.logDir}`}`);
  return `${lines.join('\n')}\n`;
}
