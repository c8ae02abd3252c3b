import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RunReport } from './run-report.js';
import { CHART_FILES, runSummaryMarkdown } from './run-summary-markdown.js';
import { lagChart, latencyChart, throughputChart } from './svg-charts.js';

export interface RunOutputOptions {
  /** Where report.json, summary.md and the charts go (created); default benchmarks/out/run-<date>. */
  readonly outDir?: string;
  /** A second copy of the JSON (what CI keeps or compares), written as well as the one in outDir. */
  readonly jsonFile?: string;
}

/** The default directory: one per run, named by its date so runs never overwrite each other. */
export function defaultRunOutDir(r: RunReport): string {
  return join('benchmarks/out', `run-${r.date.replace(/[:.]/g, '-')}`);
}

/** Writes the run's report, summary and charts; returns the absolute paths written, in that order. */
export function writeRunOutput(r: RunReport, o: RunOutputOptions = {}): { files: string[] } {
  const dir = resolve(o.outDir ?? defaultRunOutDir(r));
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const contents: ReadonlyArray<readonly [string, string]> = [
    ['report.json', json],
    ['summary.md', runSummaryMarkdown(r)],
    [CHART_FILES.throughput, throughputChart(r.seconds, { warmupS: r.parameters.warmupS })],
    [CHART_FILES.lag, lagChart(r.seconds, { warmupS: r.parameters.warmupS })],
    [CHART_FILES.latency, latencyChart(r.latency.toRedis, r.latency.toFeed, r.generator.ackLatency)],
  ];
  const files: string[] = [];
  for (const [name, text] of contents) {
    const path = join(dir, name);
    writeFileSync(path, text);
    files.push(path);
  }
  if (o.jsonFile !== undefined) {
    const path = resolve(o.jsonFile);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, json);
    files.push(path);
  }
  return { files };
}
