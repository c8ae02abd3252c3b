import { describe, expect, it } from 'vitest';
import { runSummaryMarkdown } from '../../../benchmarks/run/run-summary-markdown.js';
import { sampleReport } from './run-sample-report.js';

describe('bench run: Markdown summary', () => {
  const r = sampleReport();
  const md = runSummaryMarkdown(r);

  it('opens with the date and the verdict, then the machine and the exact command', () => {
    expect(md.split('\n')[0]).toBe('# bench run 2026-12-03: FAILED');
    expect(md).toContain('- command: `votestream bench run --rate 20000 --duration-s 60 --warmup-s 10 --via kafka`');
    expect(md).toContain('2 cores (Intel(R) Xeon(R) CPU @ 2.20GHz), 24 GiB, Node v20.20.2');
  });

  it('gives the headline figures, latencies, processes and the cost model with its totals', () => {
    expect(md).toContain('| achieved (sent) | 19,987 votes/s (99.9% of offered) |');
    expect(md).toContain('| kept the schedule | yes (worst 140 ms behind) |');
    expect(md).toContain('| persist committed | 5,000 votes/s |');
    expect(md).toMatch(/\| peak lag dedup \/ count \/ persist \| [\d,]+ \/ [\d,]+ \/ 773,010 records \|/);
    expect(md).toMatch(/\| due -> counted in Redis \| 200,000 \| [\d.]+ \|/);
    // A pipe in a process name must not split the table row.
    expect(md).toContain('| kafka \\| broker | broker | 9 | 61.70 | 1,024.5 | no |');
    expect(md).toContain('| dedup | 1,400,000 | 102.30 | 73.1 | 18.27 |');
    expect(md).toContain('| **pipeline without broker** (gateway, dedup, count, persist, feed) | | | | **31.13** |');
    expect(md).toContain('| **all** (+ broker, Redis, DynamoDB Local) | | | | **59.20** |');
  });

  it('shows how each worker batched its commits', () => {
    expect(md).toContain('| dedup | 610 | 41.50 | 2,295 | 0 |');
    expect(md).toContain('| count | 590 | 3.25 | 1,898 | 1 |');
  });

  it('states the verdict with its numbers and problems, and links the charts', () => {
    expect(md).toContain('## Verdict: FAILED');
    expect(md).toContain('| DynamoDB votes | 1,119,990 | 640,000 | inconclusive (not drained) |');
    expect(md).toContain('| DynamoDB drained after the load | within 120,000 ms | not within 120,000 ms | **not drained** |');
    expect(md).toContain('Problems:\n\n- Redis e1 _total: 1,119,989, expected 1,119,990');
    expect(md).toContain('Not checked:\n\n- DynamoDB e1: 640,000 of 1,119,990 votes persisted when the 120000 ms bound passed (not drained: inconclusive)');
    for (const f of ['throughput.svg', 'lag.svg', 'latency.svg']) expect(md).toContain(`](${f})`);
  });

  it('says PASSED, with no problem list, when the run passed; fences a command holding backticks', () => {
    const ok = runSummaryMarkdown({
      ...r,
      command: 'votestream bench run --label `x`',
      verdict: { ...r.verdict, passed: true, dynamodbTotal: 1_119_990, dynamodbDrained: true, dynamodbExact: true, dynamodbDrainMs: 2_300, problems: [], notes: [] },
    });
    expect(ok.split('\n')[0]).toBe('# bench run 2026-12-03: PASSED');
    expect(ok).toContain('## Verdict: PASSED');
    expect(ok).toContain('| DynamoDB drained after the load | within 120,000 ms | 2,300 ms | ok |');
    expect(ok).not.toContain('Problems:');
    expect(ok).not.toContain('Not checked:');
    expect(ok).toContain('| DynamoDB votes | 1,119,990 | 1,119,990 | exact |');
    expect(ok).toContain('- command: `` votestream bench run --label `x` ``');
  });
});
