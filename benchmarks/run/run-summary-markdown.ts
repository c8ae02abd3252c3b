import type { LatencySummary, RunReport } from './run-report.js';

/** The chart files run-output.ts writes next to the summary; the links below are relative to it. */
export const CHART_FILES = { throughput: 'throughput.svg', lag: 'lag.svg', latency: 'latency.svg' } as const;

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const dec = (x: number, digits: number): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const msText = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? int(x) : x >= 10 ? dec(x, 1) : dec(x, 2)) : 'n/a');
/** Markdown table cells must not break the table. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
/** A command in backticks, with a fence long enough for backticks inside it. */
function code(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return longest > 0 ? `${fence} ${s} ${fence}` : `${fence}${s}${fence}`;
}

function latencyRow(name: string, l: LatencySummary): string {
  if (l.count === 0) return `| ${name} | 0 | – | – | – | – | – | – |`;
  return `| ${name} | ${int(l.count)} | ${msText(l.p50)} | ${msText(l.p90)} | ${msText(l.p99)} | ${msText(l.p999)} | ${msText(l.max)} | ${msText(l.mean)} |`;
}

function ratio(part: number, whole: number): string {
  return whole > 0 && Number.isFinite(part) ? ` (${dec((part / whole) * 100, 1)}% of offered)` : '';
}

/** The Markdown summary of one `bench run`: what RESULTS.md rows are written from, and what a reader opens first. */
export function runSummaryMarkdown(r: RunReport): string {
  const p = r.parameters;
  const g = r.generator;
  const v = r.verdict;
  const m = r.machine;
  const lines: string[] = [];

  lines.push(`# bench run ${r.date.slice(0, 10)}: ${v.passed ? 'PASSED' : 'FAILED'}`);
  lines.push('');
  lines.push(`- date: ${r.date}`);
  lines.push(`- machine: ${m.cores} cores (${cell(m.cpu)}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`);
  lines.push(`- command: ${code(r.command)}`);
  lines.push('');

  lines.push('## Parameters');
  lines.push('');
  lines.push('| parameter | value |');
  lines.push('|---|---|');
  lines.push(`| rate offered | ${int(p.rate)} votes/s |`);
  lines.push(`| warm-up, then measured | ${int(p.warmupS)} s, then ${int(p.durationS)} s |`);
  lines.push(`| voters | ${int(p.voters)} |`);
  lines.push(`| duplicate ratio | ${dec(p.dupRatio, 2)} |`);
  lines.push(`| elections × candidates × regions | ${int(p.elections)} × ${int(p.candidates)} × ${int(p.regions)} |`);
  lines.push(`| partitions | ${int(p.partitions)} |`);
  lines.push(`| votes enter via | ${p.via} |`);
  lines.push(`| generator processes | ${int(p.generators)} |`);
  lines.push(`| processing guarantee | ${cell(p.guarantee)} |`);
  lines.push('');

  lines.push('## Headline figures');
  lines.push('');
  lines.push('Rates are over the measured window (after the warm-up, until the last vote was due).');
  lines.push('');
  lines.push('| what | figure |');
  lines.push('|---|---|');
  lines.push(`| offered (schedule) | ${int(g.offeredPerSecond)} votes/s |`);
  lines.push(`| achieved (sent) | ${int(g.achievedPerSecond)} votes/s${ratio(g.achievedPerSecond, g.offeredPerSecond)} |`);
  lines.push(`| kept the schedule | ${g.keptSchedule ? 'yes' : '**no**'} (worst ${int(g.maxBehindMs)} ms behind) |`);
  lines.push(`| votes offered / sent / acknowledged / failed | ${int(g.offered)} / ${int(g.sent)} / ${int(g.acknowledged)} / ${int(g.failed)} |`);
  lines.push(`| acknowledged | ${int(r.throughput.acknowledged)} votes/s |`);
  lines.push(`| dedup committed | ${int(r.throughput.dedup)} votes/s |`);
  lines.push(`| count committed | ${int(r.throughput.count)} votes/s |`);
  lines.push(`| persist committed | ${int(r.throughput.persist)} votes/s |`);
  const peakLag = (f: (s: RunReport['seconds'][number]) => number): string => int(r.seconds.reduce((mx, s) => Math.max(mx, f(s)), 0));
  lines.push(`| peak lag dedup / count / persist | ${peakLag((s) => s.lag.dedup)} / ${peakLag((s) => s.lag.count)} / ${peakLag((s) => s.lag.persist)} records |`);
  const statuses = Object.entries(g.statuses);
  if (statuses.length > 0) lines.push(`| gateway answers | ${statuses.map(([k, n]) => `${cell(k)}: ${int(n)}`).join(', ')} |`);
  lines.push('');

  lines.push('## Latency (ms)');
  lines.push('');
  lines.push(`Measured: ${cell(r.latency.method)}`);
  lines.push('');
  lines.push('| path | votes | p50 | p90 | p99 | p99.9 | max | mean |');
  lines.push('|---|---|---|---|---|---|---|---|');
  lines.push(latencyRow('due -> acknowledged', g.ackLatency));
  lines.push(latencyRow('due -> counted in Redis', r.latency.toRedis));
  lines.push(latencyRow('due -> pushed by the feed', r.latency.toFeed));
  lines.push('');

  lines.push('## Processes');
  lines.push('');
  lines.push('CPU seconds are user + system from the first vote due until drained.');
  lines.push('');
  lines.push('| process | stage | pid | CPU s | peak RSS MiB | started by the run |');
  lines.push('|---|---|---|---|---|---|');
  for (const pr of r.processes) {
    lines.push(`| ${cell(pr.name)} | ${pr.stage} | ${pr.pid} | ${dec(pr.cpuSeconds, 2)} | ${dec(pr.peakRssMiB, 1)} | ${pr.startedByRun ? 'yes' : 'no'} |`);
  }
  if (r.processes.length === 0) lines.push('| (none measured) | | | | | |');
  lines.push('');
  if (r.commits.length > 0) {
    lines.push('Commits of each worker (from its /metrics): how its work was batched.');
    lines.push('');
    lines.push('| stage | commits | mean commit ms | records in per commit | aborts |');
    lines.push('|---|---|---|---|---|');
    for (const k of r.commits) lines.push(`| ${k.stage} | ${int(k.commits)} | ${dec(k.meanCommitMs, 2)} | ${int(k.recordsPerCommit)} | ${int(k.aborts)} |`);
    lines.push('');
  }

  const c = r.cost;
  lines.push(`## Cost model (cores for ${int(c.targetVotesPerSecond)} votes/s)`);
  lines.push('');
  lines.push('µs/vote = CPU s × 10⁶ / votes the stage handled; cores = µs/vote × target / 10⁶. The generator is the load, not the system: listed, never in a total.');
  lines.push('');
  lines.push('| stage | votes | CPU s | µs/vote | cores |');
  lines.push('|---|---|---|---|---|');
  for (const s of c.stages) {
    lines.push(`| ${s.stage} | ${int(s.votes)} | ${dec(s.cpuSeconds, 2)} | ${dec(s.cpuMicrosPerVote, 1)} | ${dec(s.coresAtTarget, 2)} |`);
  }
  lines.push(`| **pipeline without broker** (gateway, dedup, count, persist, feed) | | | | **${dec(c.pipelineCoresWithoutBroker, 2)}** |`);
  lines.push(`| **all** (+ broker, Redis, DynamoDB Local) | | | | **${dec(c.allCores, 2)}** |`);
  lines.push('');

  lines.push(`## Verdict: ${v.passed ? 'PASSED' : 'FAILED'}`);
  lines.push('');
  lines.push('| check | expected | found | |');
  lines.push('|---|---|---|---|');
  lines.push(`| Redis \`_total\` | ${int(v.expectedTotal)} | ${int(v.redisTotal)} | ${v.redisExact ? 'exact' : '**differs**'} |`);
  lines.push(`| DynamoDB votes | ${int(v.expectedTotal)} | ${int(v.dynamodbTotal)} | ${v.dynamodbExact ? 'exact' : v.dynamodbDrained ? '**differs**' : 'inconclusive (not drained)'} |`);
  // The drain time equals the bound when DynamoDB never got there: say so rather than print it as a time.
  const drained = v.dynamodbDrained;
  lines.push(`| DynamoDB drained after the load | within ${int(v.dynamodbDrainBoundMs)} ms | ${drained ? `${int(v.dynamodbDrainMs)} ms` : `not within ${int(v.dynamodbDrainBoundMs)} ms`} | ${drained ? 'ok' : '**not drained**'} |`);
  lines.push(`| dedup accepted / rejected | | ${int(v.acceptedRecords)} / ${int(v.rejectedRecords)} | |`);
  lines.push('');
  if (v.problems.length > 0) {
    lines.push('Problems:');
    lines.push('');
    for (const pr of v.problems) lines.push(`- ${pr.replace(/\r?\n/g, ' ')}`);
    lines.push('');
  }
  if (v.notes.length > 0) {
    lines.push('Not checked:');
    lines.push('');
    for (const n of v.notes) lines.push(`- ${n.replace(/\r?\n/g, ' ')}`);
    lines.push('');
  }

  lines.push('## Charts');
  lines.push('');
  lines.push(`- [throughput per second](${CHART_FILES.throughput})`);
  lines.push(`- [consumer lag](${CHART_FILES.lag})`);
  lines.push(`- [latency by percentile](${CHART_FILES.latency})`);
  lines.push('');
  lines.push(`![throughput](${CHART_FILES.throughput})`);
  lines.push('');
  lines.push(`![lag](${CHART_FILES.lag})`);
  lines.push('');
  lines.push(`![latency](${CHART_FILES.latency})`);
  lines.push('');
  return lines.join('\n');
}
