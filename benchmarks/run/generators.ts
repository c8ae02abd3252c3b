/**
 * The parent side of the vote generators: N `generator-process.js` children, each sending its share
 * of the plan (i % N), their per-second ticks summed, their final reports merged. Children are
 * always killed: by stop(), and by SIGKILL when this process exits or is interrupted, so no load
 * generator outlives a benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { eachLine, killWithParent } from '../child-guard.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { ProcessStartError } from '../../infra/errors.js';
import { ConfigError } from '../../runtime/errors.js';
import { BenchmarkError } from '../errors.js';
import type { DoneMessage, GeneratorMessage, GeneratorProcessConfig, GeneratorSharedConfig } from './generator-process.js';

export type { GeneratorSharedConfig } from './generator-process.js';

export interface GeneratorTick {
  /** Seconds since vote 0 was due. */
  readonly t: number;
  /** Cumulative over all generators. */
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  /** The worst generator's lateness at that second. */
  readonly behindMs: number;
}

export interface GeneratorsResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly failedIndices: Set<number>;
  /** How late, at worst, a vote due after the warm-up was sent (any generator). */
  readonly maxBehindMs: number;
  /** The same over the warm-up (the producers' cold start lands there). */
  readonly maxBehindWarmupMs: number;
  readonly statuses: Record<string, number>;
  /** Intended send -> acknowledgement, µs, all generators merged. */
  readonly ackHistogram: Histogram;
  /** Epoch ms of the last send of any generator. */
  readonly lastSendAt: number;
  /** CPU seconds of each generator process over its life, in generator order. */
  readonly cpuSeconds: readonly number[];
}

export interface StartGeneratorsOptions {
  readonly count: number;
  readonly config: GeneratorSharedConfig;
  readonly onTick?: (agg: GeneratorTick) => void;
  /** Added to the children's environment (VOTESTREAM_TOKEN_SECRET for --via http). */
  readonly env?: NodeJS.ProcessEnv;
  /** The compiled generator-process.js; default: found next to this module or under dist/. */
  readonly script?: string;
}

export interface RunningGenerators {
  readonly pids: number[];
  /** All generators' merged report; rejects (with the stderr tail) if one exits otherwise than done. */
  readonly done: Promise<GeneratorsResult>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when all are gone. */
  stop(): Promise<void>;
}

/**
 * The compiled child script. From dist/ it sits next to this module; from the TypeScript sources
 * (vitest) it is the built copy under dist/, so `npm run build` must have run.
 */
export function generatorScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = resolve(here, 'generator-process.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../dist/benchmarks/run/generator-process.js');
  if (existsSync(built)) return built;
  throw new ProcessStartError(`generator-process.js not found beside ${here} nor at ${built}: run npm run build`);
}

export function startGenerators(o: StartGeneratorsOptions): RunningGenerators {
  if (!Number.isInteger(o.count) || o.count < 1) throw new ConfigError(`generator count must be a positive integer, got ${o.count}`);
  const script = o.script ?? generatorScript();
  const n = o.count;
  const children: ChildProcess[] = [];
  const tails: string[][] = [];
  const dones: Array<DoneMessage | undefined> = new Array(n).fill(undefined);
  /** Each generator's ticks by second (ticks[g][t - 1]); cumulative counts. */
  const ticks: GeneratorTick[][] = Array.from({ length: n }, () => []);
  let emittedT = 0;

  // Second t is summed once every generator has reported it or finished (a finished one's last
  // tick stands for the rest of the run), and at least one has reported it.
  const emitReady = (): void => {
    if (o.onTick === undefined) return;
    for (;;) {
      const t = emittedT + 1;
      if (!ticks.every((ts, g) => ts.length >= t || dones[g] !== undefined)) return;
      if (ticks.every((ts) => ts.length < t)) return;
      emittedT = t;
      const at = ticks.map((ts) => ts[Math.min(t, ts.length) - 1] ?? { t, sent: 0, acknowledged: 0, failed: 0, behindMs: 0 });
      o.onTick({
        t,
        sent: at.reduce((s, x) => s + x.sent, 0),
        acknowledged: at.reduce((s, x) => s + x.acknowledged, 0),
        failed: at.reduce((s, x) => s + x.failed, 0),
        behindMs: Math.max(...at.map((x, g) => (x.t === t ? x.behindMs : 0))),
      });
    }
  };

  const exits: Promise<void>[] = [];
  for (let g = 0; g < n; g++) {
    const config: GeneratorProcessConfig = { ...o.config, generator: g, generators: n };
    const child = spawn(process.execPath, [script, JSON.stringify(config)], { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      for (const c of children) c.kill('SIGKILL');
      throw new ProcessStartError(`could not start generator ${g}`);
    }
    killWithParent(child);
    children.push(child);
    const tail: string[] = [];
    tails.push(tail);
    eachLine(child.stderr!, (line) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
    });
    eachLine(child.stdout!, (line) => {
      let m: GeneratorMessage;
      try {
        m = JSON.parse(line) as GeneratorMessage;
      } catch {
        tail.push(`(stdout) ${line}`);
        return;
      }
      if (m.type === 'tick') {
        // Seconds are consecutive from 1; a gap would only come from a lost line.
        while (ticks[g].length < m.t - 1) ticks[g].push(ticks[g].at(-1) ?? { t: ticks[g].length + 1, sent: 0, acknowledged: 0, failed: 0, behindMs: 0 });
        ticks[g].push({ t: m.t, sent: m.sent, acknowledged: m.acknowledged, failed: m.failed, behindMs: m.behindMs });
      } else if (m.type === 'done') {
        dones[g] = m;
      }
      emitReady();
    });
    exits.push(
      new Promise<void>((resolveExit, reject) => {
        child.once('exit', (code, signal) => {
          // stdout may still hold the done line when 'exit' fires; 'close' means the pipes are drained.
          const settle = (): void => {
            if (code === 0 && dones[g] !== undefined) resolveExit();
            else
              reject(
                new BenchmarkError(
                  'BENCHMARK_WORKER_EXITED',
                  `generator ${g} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}${dones[g] === undefined ? ' before its report' : ''}; last stderr lines:\n${tail.join('\n')}`,
                ),
              );
          };
          if (child.stdout!.readableEnded && child.stderr!.readableEnded) settle();
          else child.once('close', settle);
        });
      }),
    );
  }

  const done = (async (): Promise<GeneratorsResult> => {
    try {
      // The first failure rejects at once (the others are stopped), rather than after all finish.
      await Promise.all(exits);
    } catch (error) {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      throw error;
    }
    const reports = dones as DoneMessage[];
    const ackHistogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
    const statuses: Record<string, number> = {};
    const failedIndices = new Set<number>();
    for (const r of reports) {
      ackHistogram.add(hdr.decodeFromCompressedBase64(r.ackHistogram));
      for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      for (const i of r.failedIndices) failedIndices.add(i);
    }
    return {
      sent: reports.reduce((s, r) => s + r.sent, 0),
      acknowledged: reports.reduce((s, r) => s + r.acknowledged, 0),
      failed: reports.reduce((s, r) => s + r.failed, 0),
      failedIndices,
      maxBehindMs: Math.max(...reports.map((r) => r.maxBehindMs)),
      maxBehindWarmupMs: Math.max(...reports.map((r) => r.maxBehindWarmupMs)),
      statuses,
      ackHistogram,
      lastSendAt: Math.max(...reports.map((r) => r.lastSendAt)),
      cpuSeconds: reports.map((r) => r.cpuSeconds),
    };
  })();
  // The caller may attach to `done` late (after stop()); never an unhandled rejection meanwhile.
  done.catch(() => undefined);

  return {
    pids: children.map((c) => c.pid!),
    done,
    async stop() {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
