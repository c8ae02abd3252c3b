/**
 * Restore rate (issue 4): a dedup run fills the `voters` store and its changelog; then the workers
 * stop, their state directory is deleted, and they start again: every task restores its store from
 * the changelog before it processes. Measured: the workers' own 'store restored' log lines
 * (records, ms, recordsPerSecond per task, summed) and the wall time from the restart until the last
 * task has restored.
 */
import { rmSync } from 'node:fs';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { createProgress } from '../runtime/progress.js';
import type { ProcessingGuarantee } from '../runtime/streams-config.js';
import { topicNames } from '../voting/topics.js';
import { recordsInput, voteRecords } from './bench-input.js';
import { round2, runDedupOnce } from './dedup-run.js';
import { BenchmarkError } from './errors.js';
import { machineInfo, type BenchmarkResult } from './result.js';
import { generateVotes, sampleElections } from '../voting/vote-generator.js';
import { failOnExit, startBenchWorker, stopBenchWorkers, type BenchWorker, type LogLine } from './worker-processes.js';

export interface RestoreBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly logger: Logger;
  readonly votes: number;
  readonly duplicateRatio: number;
  readonly partitions: number;
  /** Processes of the restarted worker. Default 1. */
  readonly processes?: number;
  readonly guarantee?: ProcessingGuarantee;
  readonly timeoutMs: number;
  readonly command: string;
}

export type RestoreBenchmarkFigures = Record<string, number | string>;

interface Restored {
  readonly task: string;
  readonly records: number;
  readonly ms: number;
  readonly recordsPerSecond: number;
}

function asRestored(line: LogLine): Restored | undefined {
  if (line.msg !== 'store restored') return undefined;
  return { task: String(line.task), records: Number(line.records), ms: Number(line.ms), recordsPerSecond: Number(line.recordsPerSecond) };
}

export async function runRestoreBenchmark(o: RestoreBenchmarkOptions): Promise<BenchmarkResult<RestoreBenchmarkFigures>> {
  const log = o.logger.child({ benchmark: 'restore' });
  const guarantee = o.guarantee ?? 'exactly_once_v2';
  const processes = o.processes ?? 1;
  const elections = sampleElections(3);
  const generated = generateVotes({ count: o.votes, duplicateRatio: o.duplicateRatio, elections, seed: 42 });
  const records = voteRecords(topicNames('').votes, generated.votes);
  const input = recordsInput(o.driver, records);
  const run = await runDedupOnce({
    processes: 1,
    guarantee,
    driver: o.driver,
    brokers: o.brokers,
    logger: log,
    label: 'fill',
    partitions: o.partitions,
    elections,
    input,
    expected: { firstVoteIds: generated.firstVoteIds, duplicates: generated.duplicates },
    timeoutMs: o.timeoutMs,
    keep: true,
  });
  const workers: BenchWorker[] = [];
  try {
    // Which changelog partitions hold anything: each of those tasks logs 'store restored' once.
    const admin = o.driver.createAdmin({ clientId: 'votestream-bench-watch' });
    const ends = await admin.endOffsets([topicNames(run.prefix).votersChangelog], 'read_committed').finally(() => admin.close());
    const expectedTasks = ends.filter((e) => e.offset > 0n).length;
    rmSync(run.stateDir, { recursive: true, force: true });
    log.info({ stateDir: run.stateDir, changelogPartitions: expectedTasks, distinctVoters: generated.firstVoteIds.size }, 'state deleted; restarting');

    const restored: Restored[] = [];
    const bar = createProgress('restore', generated.firstVoteIds.size, { unit: 'records' });
    let lastAt = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const started = Date.now();
    for (let i = 0; i < processes; i++) {
      workers.push(
        startBenchWorker({
          brokers: o.brokers,
          prefix: run.prefix,
          stateDir: run.stateDir,
          instanceId: `${run.prefix}w${i}`,
          guarantee,
          onLog: (line) => {
            const r = asRestored(line);
            if (r === undefined) return;
            restored.push(r);
            lastAt = Date.now();
            bar.increment(r.records);
            log.info({ ...r, tasks: restored.length, of: expectedTasks }, 'task restored');
            if (restored.length >= expectedTasks) resolveAll();
          },
        }),
      );
    }
    const dead = failOnExit(workers);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BenchmarkError('BENCHMARK_TIMEOUT', `restore did not finish within ${o.timeoutMs} ms: ${restored.length} of ${expectedTasks} tasks restored`)), o.timeoutMs);
    });
    try {
      await Promise.race([all, dead.promise, timeout]);
    } finally {
      clearTimeout(timer);
      bar.stop();
      dead.cancel();
    }
    await stopBenchWorkers(workers);
    const totalRecords = restored.reduce((n, r) => n + r.records, 0);
    const totalMs = restored.reduce((n, r) => n + r.ms, 0);
    const wallSeconds = (lastAt - started) / 1000;
    if (totalRecords !== generated.firstVoteIds.size) {
      throw new BenchmarkError('BENCHMARK_OUTPUT', `restored ${totalRecords} changelog records, expected ${generated.firstVoteIds.size} (one per accepted voter)`);
    }
    const rates = restored.map((r) => r.recordsPerSecond).sort((a, b) => a - b);
    const figures: RestoreBenchmarkFigures = {
      'records restored (= distinct voters)': totalRecords,
      'tasks restored': restored.length,
      'restore rate, records / summed task ms (records/s)': Math.round(totalRecords / (totalMs / 1000)),
      'per-task recordsPerSecond min / median / max': `${rates[0]} / ${rates[Math.floor(rates.length / 2)]} / ${rates.at(-1)}`,
      'summed task restore ms': totalMs,
      'wall s, restart -> last task restored': round2(wallSeconds),
      'records / wall s': Math.round(totalRecords / wallSeconds),
      'the dedup run before it: votes/s': Math.round(run.recordsPerSecond),
    };
    log.info(figures, 'restore finished');
    return {
      benchmark: 'restore',
      command: o.command,
      date: new Date().toISOString(),
      machine: machineInfo(),
      parameters: { votes: o.votes, duplicates: o.duplicateRatio, partitions: o.partitions, processes, guarantee },
      figures,
    };
  } finally {
    await stopBenchWorkers(workers);
    await run.cleanUp();
  }
}
