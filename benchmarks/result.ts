import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

/** Where a benchmark ran: enough to tell two machines apart when reading RESULTS.md. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export interface BenchmarkResult<F extends Record<string, number | string>> {
  readonly benchmark: string;
  readonly command: string;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly parameters: Record<string, number | string | boolean>;
  /** The figures; compare those of one run with each other (ratios), not across runs. */
  readonly figures: F;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Writes the result as JSON under benchmarks/out/ (git-ignored) and returns the path. */
export function writeResult<F extends Record<string, number | string>>(result: BenchmarkResult<F>, outDir = 'benchmarks/out'): string {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.benchmark}-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** One Markdown table row per figure, in the shape of benchmarks/RESULTS.md. */
export function resultRows<F extends Record<string, number | string>>(result: BenchmarkResult<F>): string {
  const day = result.date.slice(0, 10);
  const machine = `${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}`;
  return Object.entries(result.figures)
    .map(([name, value]) => `| ${result.benchmark}: ${name} | ${typeof value === 'number' ? value.toLocaleString('en-US') : value} | \`${result.command}\` | ${day} | ${machine} |`)
    .join('\n');
}
