import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRunOutput } from '../../../benchmarks/run/run-output.js';
import { sampleReport } from './run-sample-report.js';

describe('bench run: output files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes report.json, summary.md and the three charts into a new directory, and the JSON to jsonFile', () => {
    const root = mkdtempSync(join(tmpdir(), 'run-output-'));
    dirs.push(root);
    const r = sampleReport();
    const outDir = join(root, 'a', 'b');
    const jsonFile = join(root, 'ci', 'run.json');
    const { files } = writeRunOutput(r, { outDir, jsonFile });
    expect(files).toEqual([...['report.json', 'summary.md', 'throughput.svg', 'lag.svg', 'latency.svg'].map((f) => join(outDir, f)), jsonFile]);
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8'))).toEqual(r);
    expect(readFileSync(jsonFile, 'utf8')).toBe(readFileSync(join(outDir, 'report.json'), 'utf8'));
    expect(readFileSync(join(outDir, 'summary.md'), 'utf8')).toContain(r.command);
    expect(readFileSync(join(outDir, 'latency.svg'), 'utf8')).toContain('to ack');
  });

  it('writes only the five files when no jsonFile is given', () => {
    const root = mkdtempSync(join(tmpdir(), 'run-output-'));
    dirs.push(root);
    expect(writeRunOutput(sampleReport(), { outDir: root }).files).toHaveLength(5);
  });
});
