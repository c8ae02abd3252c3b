/**
 * One timed dedup run: a fresh topic prefix and state directory, the given input produced before the
 * clock starts, N `votestream worker --roles dedup` processes, timed from their start until the dedup
 * group has committed all of `votes`; then the outputs are checked record by record. Workers are
 * always stopped, also on failure; topics and state are removed unless the caller keeps them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { createProgress } from '../runtime/progress.js';
import type { ProcessingGuarantee } from '../runtime/streams-config.js';
import type { Election } from '../voting/election.js';
import { topicNames } from '../voting/topics.js';
import { benchPrefix, deleteBenchTopics, provisionBenchTopics, type BenchInput } from './bench-input.js';
import { waitForDedup } from './dedup-completion.js';
import { scrapeMetrics, sumMetric } from './metrics-scrape.js';
import { checkDedupOutputs } from './output-check.js';
import { sampleRss, type RssSampler } from './rss-sampler.js';
import { failOnExit, startBenchWorker, stopBenchWorkers, type BenchWorker } from './worker-processes.js';

export interface DedupRunOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly logger: Logger;
  readonly label: string;
  readonly processes: number;
  readonly guarantee: ProcessingGuarantee;
  readonly partitions: number;
  readonly elections: readonly Election[];
  /** What goes to the run's own `votes` topic before the clock starts. */
  readonly input: BenchInput;
  /** What the outputs must hold; omit to skip the record-by-record check. */
  readonly expected?: { readonly firstVoteIds: ReadonlyMap<string, string>; readonly duplicates: number };
  readonly timeoutMs: number;
  /** Added to every worker's command line (e.g. --no-overlap-commits, to measure one lever). */
  readonly workerArgs?: readonly string[];
  /** Node flags for worker 0 only (e.g. --cpu-prof). */
  readonly worker0ExecArgv?: readonly string[];
  /** Sample worker 0's RSS every second. */
  readonly sampleRss?: boolean;
  /** Leave topics and state in place (the caller removes them with `cleanUp`). */
  readonly keep?: boolean;
  readonly cliPath?: string;
}

export interface DedupRunResult {
  readonly prefix: string;
  readonly stateDir: string;
  readonly votes: number;
  readonly produceSeconds: number;
  /** Worker start -> all of `votes` committed. */
  readonly wallSeconds: number;
  /** Worker start -> first committed progress (process start, group join, assignment, first batch). */
  readonly startupSeconds: number;
  readonly recordsPerSecond: number;
  readonly accepted?: number;
  readonly rejected?: number;
  readonly commits: number;
  readonly meanCommitMs: number;
  readonly aborts: number;
  readonly rss?: RssSampler;
  readonly curve: ReadonlyArray<readonly [number, number]>;
  /** Removes topics and state (when `keep` was set). */
  cleanUp(): Promise<void>;
}

export async function runDedupOnce(o: DedupRunOptions): Promise<DedupRunResult> {
  const log = o.logger.child({ run: o.label });
  const prefix = benchPrefix('dedup');
  const stateDir = mkdtempSync(join(tmpdir(), 'votestream-bench-state-'));
  const cleanUp = async (): Promise<void> => {
    await deleteBenchTopics(o.driver, prefix);
    rmSync(stateDir, { recursive: true, force: true });
  };
  const workers: BenchWorker[] = [];
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench-watch' });
  let kept = false;
  try {
    await provisionBenchTopics(o.driver, prefix, o.partitions, o.elections);
    const producing = createProgress(`${o.label}: producing`, o.input.count, { unit: 'votes' });
    const produceSeconds = await o.input.write(topicNames(prefix).votes, (n) => producing.update(n)).finally(() => producing.stop());
    log.info({ prefix, votes: o.input.count, produceSeconds: round2(produceSeconds), votesPerSecond: Math.round(o.input.count / produceSeconds) }, 'input produced');

    const metricsUrls: string[] = [];
    const started = Date.now();
    for (let i = 0; i < o.processes; i++) {
      workers.push(
        startBenchWorker({
          cliPath: o.cliPath,
          brokers: o.brokers,
          prefix,
          stateDir,
          instanceId: `${prefix}w${i}`,
          guarantee: o.guarantee,
          extraArgs: o.workerArgs,
          ...(i === 0 && o.worker0ExecArgv !== undefined ? { execArgv: o.worker0ExecArgv } : {}),
          onLog: (line) => {
            if (line.msg === 'metrics served' && typeof line.url === 'string') metricsUrls.push(line.url);
            if (line.level !== undefined && Number(line.level) >= 50) log.warn({ worker: i, line }, 'worker logged an error');
          },
        }),
      );
    }
    log.info({ processes: o.processes, guarantee: o.guarantee, pids: workers.map((w) => w.pid), stateDir }, 'workers started');
    const dead = failOnExit(workers);
    let committedNow = 0;
    const rss = o.sampleRss === true ? sampleRss(workers[0].pid, { progress: () => committedNow }) : undefined;
    const bar = createProgress(`${o.label}: dedup`, o.input.count, { unit: 'votes' });
    let lastLog = Date.now();
    let done;
    try {
      done = await waitForDedup({
        admin,
        prefix,
        since: started,
        timeoutMs: o.timeoutMs,
        abort: dead.promise,
        onProgress: (committed, total) => {
          committedNow = committed;
          bar.update(committed);
          if (Date.now() - lastLog >= 5000) {
            lastLog = Date.now();
            log.info({ committed, total, seconds: round2((Date.now() - started) / 1000), ...(rss !== undefined ? { rssMiB: rss.samples().at(-1)?.rssMiB } : {}) }, 'dedup progress');
          }
        },
      });
    } finally {
      bar.stop();
      rss?.stop();
    }
    const wallSeconds = (done.doneAt - started) / 1000;
    const texts = await Promise.all(metricsUrls.map((u) => scrapeMetrics(u)));
    const commits = texts.reduce((n, t) => n + sumMetric(t, 'votestream_commits_total'), 0);
    const latencySum = texts.reduce((n, t) => n + sumMetric(t, 'votestream_commit_latency_seconds_sum'), 0);
    const aborts = texts.reduce((n, t) => n + sumMetric(t, 'votestream_aborts_total'), 0);
    dead.cancel();
    await stopBenchWorkers(workers);
    const result = {
      prefix,
      stateDir,
      votes: o.input.count,
      produceSeconds,
      wallSeconds,
      startupSeconds: (done.firstProgressAt - started) / 1000,
      recordsPerSecond: o.input.count / wallSeconds,
      commits,
      meanCommitMs: commits > 0 ? (latencySum / commits) * 1000 : 0,
      aborts,
      curve: done.curve,
      ...(rss !== undefined ? { rss } : {}),
      cleanUp,
    };
    log.info(
      { wallSeconds: round2(wallSeconds), startupSeconds: round2(result.startupSeconds), recordsPerSecond: Math.round(result.recordsPerSecond), commits, meanCommitMs: round2(result.meanCommitMs), aborts },
      'dedup finished',
    );
    if (o.expected === undefined) {
      kept = o.keep === true;
      return result;
    }
    const counts = await checkDedupOutputs({ driver: o.driver, prefix, partitions: o.partitions, firstVoteIds: o.expected.firstVoteIds, duplicates: o.expected.duplicates });
    log.info({ ...counts }, 'outputs exact');
    kept = o.keep === true;
    return { ...result, ...counts };
  } finally {
    await stopBenchWorkers(workers);
    await admin.close().catch(() => undefined);
    if (!kept) await cleanUp();
  }
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;
