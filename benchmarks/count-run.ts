/**
 * One timed count run: a fresh prefix, accepted votes written straight into its `votes-accepted`
 * before the clock starts (so the dedup stage costs nothing here), N `votestream worker --roles count`
 * processes, timed from their start until the count group has committed every partition's end
 * offset; then the Redis hashes are compared field by field with the counts the input implies.
 * Workers are always stopped, topics and Redis keys always removed, also on failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { KafkaDriver, ProducerRecord, TopicPartitionOffset } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { partitionForKey } from '../runtime/partitioner.js';
import { createProgress } from '../runtime/progress.js';
import type { Election } from '../voting/election.js';
import { countsKey, regionField, regionsKey, TOTAL_FIELD } from '../voting/redis-keys.js';
import { votingApplicationId } from '../voting/topology.js';
import { topicNames } from '../voting/topics.js';
import { encodeJson, toAcceptedVote, type Vote } from '../voting/vote.js';
import { benchPrefix, deleteBenchTopics, provisionBenchTopics, type BenchInput } from './bench-input.js';
import { round2 } from './dedup-run.js';
import { BenchmarkError } from './errors.js';
import { scrapeMetrics, sumMetric } from './metrics-scrape.js';
import { cpuSeconds } from './process-cpu.js';
import { failOnExit, startBenchProcess, stopBenchWorkers, type BenchWorker } from './worker-processes.js';

/** The count sub-topology's group: the app id and its source node, `count-source` (see StreamThread). */
export function countGroupId(prefix: string): string {
  return `${votingApplicationId(prefix)}-count-source`;
}

/**
 * Votes as the dedup stage writes them to `votes-accepted`: keyed by voter, on the key's partition,
 * `source` naming that partition and the vote's offset there (as if `votes` held exactly these votes,
 * in order), encoded by the same functions.
 */
export function acceptedVoteRecords(topic: string, votes: readonly Vote[], partitions: number): ProducerRecord[] {
  const nextOffset = new Array<number>(partitions).fill(0);
  return votes.map((v) => {
    const key = Buffer.from(v.voterId);
    const partition = partitionForKey(key, partitions);
    return { topic, partition, key, value: encodeJson(toAcceptedVote(v, partition, nextOffset[partition]++)), timestamp: v.ts };
  });
}

/** election -> (hash -> (field -> count)): what Redis must hold once every vote is counted. */
export type ExpectedCounts = ReadonlyMap<string, { readonly counts: ReadonlyMap<string, number>; readonly regions: ReadonlyMap<string, number> }>;

export function expectedCounts(votes: readonly Vote[]): ExpectedCounts {
  const out = new Map<string, { counts: Map<string, number>; regions: Map<string, number> }>();
  const add = (m: Map<string, number>, field: string): void => {
    m.set(field, (m.get(field) ?? 0) + 1);
  };
  for (const v of votes) {
    let e = out.get(v.electionId);
    if (e === undefined) out.set(v.electionId, (e = { counts: new Map(), regions: new Map() }));
    add(e.counts, v.candidateId);
    add(e.counts, TOTAL_FIELD);
    if (v.region !== undefined) add(e.regions, regionField(v.region, v.candidateId));
  }
  return out;
}

/**
 * Every field of every election's counts and regions hash against the expectation, both ways (a
 * field Redis has and the input does not imply is as wrong as a missing one). Returns fields checked.
 */
export async function checkRedisCounts(redis: Redis, prefix: string, expected: ExpectedCounts): Promise<number> {
  const wrong: string[] = [];
  let fields = 0;
  for (const [electionId, want] of expected) {
    for (const [key, fieldsWanted] of [
      [countsKey(electionId, prefix), want.counts],
      [regionsKey(electionId, prefix), want.regions],
    ] as const) {
      const got = await redis.hgetall(key);
      for (const name of new Set([...fieldsWanted.keys(), ...Object.keys(got)])) {
        fields++;
        const have = got[name] === undefined ? 0 : Number(got[name]);
        if (have !== (fieldsWanted.get(name) ?? 0)) wrong.push(`${key} ${name}: ${got[name] ?? 'missing'}, expected ${fieldsWanted.get(name) ?? 'none'}`);
      }
    }
  }
  if (wrong.length > 0) throw new BenchmarkError('BENCHMARK_OUTPUT', `Redis counts differ from the input in ${wrong.length} fields:\n${wrong.slice(0, 20).join('\n')}`);
  return fields;
}

/** Deletes every key under the run's prefix (counts, regions, fences, watermarks); returns how many are left. */
export async function deletePrefixKeys(redis: Redis, prefix: string): Promise<number> {
  const keys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  const found = await keys();
  if (found.length > 0) await redis.del(...found);
  return (await keys()).length;
}

export interface CountRunOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly redis: string;
  readonly logger: Logger;
  readonly label: string;
  readonly processes: number;
  readonly partitions: number;
  readonly elections: readonly Election[];
  /** Accepted-vote records (see acceptedVoteRecords), written to the run's `votes-accepted`. */
  readonly input: BenchInput;
  readonly expected: ExpectedCounts;
  readonly timeoutMs: number;
  readonly workerArgs?: readonly string[];
  /** Node flags for worker 0 only (e.g. --cpu-prof). */
  readonly worker0ExecArgv?: readonly string[];
  /** The Redis server's pid when this machine runs it: its CPU is charged to the votes too. */
  readonly redisPid?: number;
  readonly cliPath?: string;
}

export interface CountRunResult {
  readonly prefix: string;
  readonly votes: number;
  readonly produceSeconds: number;
  /** Worker start -> every votes-accepted end offset committed by the count group. */
  readonly wallSeconds: number;
  /** Worker start -> first committed progress. */
  readonly startupSeconds: number;
  readonly votesPerSecond: number;
  /**
   * Votes committed after the first committed progress over the time since: the rate without
   * start-up. Absent (as is the next) when the first commit seen already held every vote.
   */
  readonly steadyVotesPerSecond?: number;
  /** The workers' user + system CPU from their start (module loading and group join included). */
  readonly workerCpuMicrosPerVote: number;
  /** The same from the first committed progress on, over the votes committed after it: the steady state. */
  readonly workerSteadyCpuMicrosPerVote?: number;
  readonly redisCpuMicrosPerVote?: number;
  readonly commits: number;
  readonly meanCommitMs: number;
  readonly aborts: number;
  /** Hash fields compared with the input's counts (all equal, or the run threw). */
  readonly fieldsChecked: number;
  /** Redis keys of the prefix still there after clean-up. */
  readonly keysLeft: number;
}

const sumOffsets = (xs: readonly TopicPartitionOffset[]): number => xs.reduce((n, x) => n + Number(x.offset), 0);
const workersCpu = (workers: readonly BenchWorker[]): number => workers.reduce((n, w) => n + (cpuSeconds(w.pid) ?? 0), 0);

export async function runCountOnce(o: CountRunOptions): Promise<CountRunResult> {
  const log = o.logger.child({ run: o.label });
  const prefix = benchPrefix('count');
  const topics = topicNames(prefix);
  const stateDir = mkdtempSync(join(tmpdir(), 'votestream-bench-state-'));
  const redis = new Redis(o.redis, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench-watch' });
  const workers: BenchWorker[] = [];
  let keysLeft = -1;
  try {
    await provisionBenchTopics(o.driver, prefix, o.partitions, o.elections);
    const producing = createProgress(`${o.label}: producing`, o.input.count, { unit: 'votes' });
    const produceSeconds = await o.input.write(topics.votesAccepted, (n) => producing.update(n)).finally(() => producing.stop());
    log.info({ prefix, votes: o.input.count, produceSeconds: round2(produceSeconds) }, 'accepted votes produced');
    // A plain idempotent producer leaves no transaction markers, so end offsets count records exactly.
    const total = sumOffsets(await admin.endOffsets([topics.votesAccepted], 'read_uncommitted'));
    if (total !== o.input.count) throw new BenchmarkError('BENCHMARK_OUTPUT', `${topics.votesAccepted} holds ${total} records, ${o.input.count} produced`);

    const metricsUrls: string[] = [];
    const redisCpu0 = o.redisPid === undefined ? undefined : cpuSeconds(o.redisPid);
    const started = Date.now();
    for (let i = 0; i < o.processes; i++) {
      const instanceId = `${prefix}w${i}`;
      workers.push(
        startBenchProcess({
          name: `worker ${instanceId}`,
          cliPath: o.cliPath,
          ...(i === 0 && o.worker0ExecArgv !== undefined ? { execArgv: o.worker0ExecArgv } : {}),
          args: ['worker', '--roles', 'count', '--processes', '1', '--state-dir', stateDir, '--instance-id', instanceId, '--metrics-port', '0', '--redis', o.redis, ...(o.workerArgs ?? [])],
          env: { KAFKA_BROKERS: o.brokers, VOTESTREAM_TOPIC_PREFIX: prefix, LOG_LEVEL: 'info' },
          onLog: (line) => {
            if (line.msg === 'metrics served' && typeof line.url === 'string') metricsUrls.push(line.url);
            if (line.level !== undefined && Number(line.level) >= 50) log.warn({ worker: i, line }, 'worker logged an error');
          },
        }),
      );
    }
    log.info({ processes: o.processes, pids: workers.map((w) => w.pid), redisPid: o.redisPid }, 'workers started');
    const dead = failOnExit(workers);
    let aborted: unknown;
    dead.promise.catch((err: unknown) => (aborted = err));
    const bar = createProgress(`${o.label}: count`, total, { unit: 'votes' });
    const group = countGroupId(prefix);
    const deadline = started + o.timeoutMs;
    let first: { at: number; committed: number; cpu: number } | undefined;
    let doneAt = 0;
    let lastLog = started;
    try {
      while (doneAt === 0) {
        if (aborted !== undefined) throw aborted;
        const committed = sumOffsets(await admin.committedOffsets(group, [topics.votesAccepted]).catch(() => []));
        const now = Date.now();
        bar.update(committed);
        if (committed > 0 && first === undefined) first = { at: now, committed, cpu: workersCpu(workers) };
        if (committed >= total) doneAt = now;
        else if (now > deadline) throw new BenchmarkError('BENCHMARK_TIMEOUT', `count did not finish within ${o.timeoutMs} ms: ${committed} of ${total} votes committed`);
        else {
          if (now - lastLog >= 5000) {
            lastLog = now;
            log.info({ committed, total, seconds: round2((now - started) / 1000) }, 'count progress');
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      bar.stop();
    }
    const cpu = workersCpu(workers);
    const redisCpu1 = o.redisPid === undefined ? undefined : cpuSeconds(o.redisPid);
    const texts = await Promise.all(metricsUrls.map((u) => scrapeMetrics(u)));
    const metric = (name: string): number => texts.reduce((n, t) => n + sumMetric(t, name), 0);
    const commits = metric('votestream_commits_total');
    dead.cancel();
    await stopBenchWorkers(workers);

    const fieldsChecked = await checkRedisCounts(redis, prefix, o.expected);
    const wallSeconds = (doneAt - started) / 1000;
    const after = first !== undefined && total > first.committed ? { votes: total - first.committed, seconds: (doneAt - first.at) / 1000, cpu: cpu - first.cpu } : undefined;
    const result: Omit<CountRunResult, 'keysLeft'> = {
      prefix,
      votes: total,
      produceSeconds,
      wallSeconds,
      startupSeconds: ((first?.at ?? doneAt) - started) / 1000,
      votesPerSecond: total / wallSeconds,
      workerCpuMicrosPerVote: (cpu / total) * 1e6,
      ...(after !== undefined ? { steadyVotesPerSecond: after.votes / after.seconds, workerSteadyCpuMicrosPerVote: (after.cpu / after.votes) * 1e6 } : {}),
      ...(redisCpu0 !== undefined && redisCpu1 !== undefined ? { redisCpuMicrosPerVote: ((redisCpu1 - redisCpu0) / total) * 1e6 } : {}),
      commits,
      meanCommitMs: commits > 0 ? (metric('votestream_commit_latency_seconds_sum') / commits) * 1000 : 0,
      aborts: metric('votestream_aborts_total'),
      fieldsChecked,
    };
    log.info({ ...result, wallSeconds: round2(wallSeconds), votesPerSecond: Math.round(result.votesPerSecond) }, 'count finished, Redis counts exact');
    keysLeft = await deletePrefixKeys(redis, prefix);
    return { ...result, keysLeft };
  } finally {
    await stopBenchWorkers(workers);
    await admin.close().catch(() => undefined);
    await deleteBenchTopics(o.driver, prefix);
    if (keysLeft < 0) await deletePrefixKeys(redis, prefix).catch(() => undefined);
    redis.disconnect();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
