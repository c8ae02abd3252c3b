/**
 * The judge of a chaos run, after the drain: the auditor's own tools, run as an auditor runs them
 * (the CLI: `audit recount --publish`, `audit invariants`, `audit verify`), plus the one thing they
 * cannot know: that every vote the gateway acknowledged reached `votes`.
 */
import { runCommand, type CommandResult } from '../../infra/run-command.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { InvariantsReport } from '../../voting/audit/invariants-report.js';
import type { VerifyReport } from '../../voting/audit/audit-report.js';
import { readTopicToEnd } from '../../voting/audit/read-topic.js';
import { topicNames } from '../../voting/topics.js';
import type { AnomalyName, CheckResult } from './chaos-report.js';
import type { LiveSnapshot, LiveViewer } from './live-viewer.js';

const EXAMPLES = 5;

export interface CliRunner {
  /** Runs `votestream <args>` with the deployment's environment; never throws on a non-zero exit. */
  (args: readonly string[]): Promise<CommandResult>;
}

export function cliRunner(cliPath: string, env: NodeJS.ProcessEnv): CliRunner {
  return (args) => runCommand(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } });
}

/** Every voteId the gateway answered 202 for is on `votes` (the gateway acknowledges only after Kafka did). */
export async function checkAcknowledged(driver: KafkaDriver, prefix: string, acknowledged: ReadonlySet<string>): Promise<CheckResult> {
  const seen = new Set<string>();
  let records = 0;
  await readTopicToEnd({
    driver,
    topic: topicNames(prefix).votes,
    clientId: 'votestream-chaos-check',
    onBatch: (batch) => {
      for (const r of batch) {
        records++;
        if (r.value === null) continue;
        try {
          const vote = JSON.parse(Buffer.from(r.value).toString('utf8')) as { voteId?: unknown };
          if (typeof vote.voteId === 'string') seen.add(vote.voteId);
        } catch {
          // not a vote of ours: the pipeline's own checks judge it
        }
      }
    },
  });
  const lost = [...acknowledged].filter((id) => !seen.has(id));
  return {
    name: 'acknowledged votes on `votes`',
    ok: lost.length === 0,
    detail: `${acknowledged.size - lost.length} of ${acknowledged.size} acknowledged votes found among ${records} records`,
    anomalies: lost.length > 0 ? { 'lost-write': lost.length } : {},
    ...(lost.length > 0 ? { examples: lost.slice(0, EXAMPLES) } : {}),
  };
}

export interface RecountJson {
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
}

function parseJson<T>(what: string, out: CommandResult): T | CheckResult {
  try {
    return JSON.parse(out.stdout) as T;
  } catch {
    return { name: what, ok: false, detail: `exit ${out.status}, no JSON report: ${out.stderr.trim().split('\n').slice(-3).join(' | ')}`, anomalies: {} };
  }
}

const isCheck = (v: unknown): v is CheckResult => typeof v === 'object' && v !== null && 'anomalies' in v && 'detail' in v;

/** The official recount, published; then the independent invariants and the log's verification. */
export async function auditElection(cli: CliRunner, electionId: string, keyFile: string): Promise<{ checks: CheckResult[]; official?: RecountJson }> {
  const checks: CheckResult[] = [];
  const recountOut = await cli(['audit', 'recount', '--election', electionId, '--publish', '--key-file', keyFile, '--json']);
  const recount = parseJson<RecountJson>(`audit recount ${electionId}`, recountOut);
  if (isCheck(recount)) checks.push(recount);
  else checks.push({ name: `audit recount ${electionId}`, ok: recountOut.status === 0, detail: `exit ${recountOut.status}; official total ${recount.total}`, anomalies: recountOut.status === 0 ? {} : { 'broken-chain': 1 } });

  const invOut = await cli(['audit', 'invariants', '--election', electionId, '--json']);
  const inv = parseJson<InvariantsReport>(`audit invariants ${electionId}`, invOut);
  if (isCheck(inv)) checks.push(inv);
  else {
    const anomalies: Partial<Record<AnomalyName, number>> = {};
    const add = (name: AnomalyName, n: number): void => void (anomalies[name] = (anomalies[name] ?? 0) + n);
    for (const a of inv.anomalies) {
      if (a.anomaly === 'lost-write' || a.anomaly === 'unexpected') add(a.anomaly, a.voteIds.length);
      else add(a.anomaly, 1);
    }
    checks.push({
      name: `audit invariants ${electionId}`,
      ok: inv.ok && invOut.status === 0,
      detail: `exit ${invOut.status}; expected ${inv.expected.counts._total ?? 0} from ${inv.votesRead} votes read; held: votes-accepted ${inv.held['votes-accepted']}, dynamodb ${inv.held.dynamodb}, redis ${inv.held.redis}, official ${inv.held.official}; ${inv.anomalies.length} anomalies`,
      anomalies,
      ...(inv.anomalies.length > 0 ? { examples: inv.anomalies.slice(0, EXAMPLES).map((a) => JSON.stringify(a).slice(0, 300)) } : {}),
    });
    const behind = inv.lag.dedup + inv.lag.count + inv.lag.persist;
    checks.push({
      name: `group offsets ${electionId}`,
      ok: behind === 0,
      detail: `records not committed after the drain: dedup ${inv.lag.dedup}, count ${inv.lag.count}, persist ${inv.lag.persist}`,
      anomalies: behind === 0 ? {} : { 'inconsistent-offsets': behind },
    });
  }

  const verOut = await cli(['audit', 'verify', '--election', electionId, '--json']);
  const ver = parseJson<VerifyReport>(`audit verify ${electionId}`, verOut);
  if (isCheck(ver)) checks.push(ver);
  else {
    const anomalies: Partial<Record<AnomalyName, number>> = {};
    const add = (name: AnomalyName): void => void (anomalies[name] = (anomalies[name] ?? 0) + 1);
    for (const f of ver.findings) {
      if (f.kind === 'chain') add('broken-chain');
      else if (f.kind === 'duplicate-voter') add('duplicate');
      else if (f.kind === 'invalid-vote') add('unexpected');
      else if (f.kind === 'vote-set') add('lost-write');
      else add('miscount');
    }
    checks.push({
      name: `audit verify ${electionId}`,
      ok: ver.ok && verOut.status === 0,
      detail: `exit ${verOut.status}; ${ver.votes} votes in ${ver.chains.length} chains, ${ver.votesAccepted} on votes-accepted; ${ver.findings.length} findings`,
      anomalies,
      ...(ver.findings.length > 0 ? { examples: ver.findings.slice(0, EXAMPLES).map((f) => JSON.stringify(f).slice(0, 300)) } : {}),
    });
    if (!isCheck(recount)) checks.push(compareLiveWithOfficial(electionId, ver.redis.counts, recount));
  }
  return { checks, ...(isCheck(recount) ? {} : { official: recount }) };
}

/**
 * What a voter who watched the live page throughout finally sees, against the official recount.
 * The feed sends a snapshot after each applied batch (at most every 250 ms), so the last one may
 * trail Redis by a moment: it is waited for, up to `timeoutMs`.
 */
export async function checkLivePage(viewer: LiveViewer, electionId: string, official: RecountJson | undefined, timeoutMs: number): Promise<CheckResult> {
  const name = `live page = official ${electionId}`;
  if (official === undefined) return { name, ok: false, detail: 'no official result to compare with', anomalies: { 'recount-mismatch': 1 } };
  const same = (s: LiveSnapshot): boolean => s.total === official.total && Object.entries(official.counts).every(([c, n]) => (s.counts[c] ?? 0) === n);
  const seen = await viewer.until(electionId, same, timeoutMs);
  const ok = seen !== undefined && same(seen);
  return {
    name,
    ok,
    detail: `last snapshot total ${seen?.total ?? 'none'}, official ${official.total}; ${viewer.connections} SSE streams opened in all (reconnects after feed kills)`,
    anomalies: ok ? {} : { 'recount-mismatch': 1 },
    ...(ok ? {} : { examples: [`live ${JSON.stringify(seen?.counts ?? null)}`, `official ${JSON.stringify(official.counts)}`] }),
  };
}

/** The live count (Redis, what the feed shows) against the official recount, candidate by candidate. */
function compareLiveWithOfficial(electionId: string, live: Readonly<Record<string, number>>, official: RecountJson): CheckResult {
  const fields = new Set([...Object.keys(official.counts), ...Object.keys(live).filter((f) => !f.startsWith('_'))]);
  const differ = [...fields].filter((f) => (live[f] ?? 0) !== (official.counts[f] ?? 0));
  if ((live._total ?? 0) !== official.total) differ.push('_total');
  return {
    name: `live count = official ${electionId}`,
    ok: differ.length === 0,
    detail: `live total ${live._total ?? 0}, official total ${official.total}; ${differ.length} field(s) differ`,
    anomalies: differ.length === 0 ? {} : { 'recount-mismatch': differ.length },
    ...(differ.length > 0 ? { examples: differ.slice(0, EXAMPLES).map((f) => `${f}: live ${live[f] ?? 0}, official ${official.counts[f] ?? 0}`) } : {}),
  };
}
