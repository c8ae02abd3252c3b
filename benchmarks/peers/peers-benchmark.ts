/**
 * `votestream bench peers`: our dedup stage beside its peers on the same broker, the same generated
 * input and the same judging rule, in interleaved rounds (A B A B) so that the machine's drift hits
 * every contender alike:
 * - votestream: `threads` `worker --roles dedup` processes, exactly_once_v2, LevelDB, on the CLI's
 *   --driver (default @platformatic/kafka: one transactional producer per thread, KIP-447);
 * - votestream-kafkajs: the same on kafkajs, whatever --driver says (no KIP-447: one transactional
 *   producer per input partition), so that one run sets both clients side by side;
 * - Apache Kafka Streams 4.1.1: `threads` stream threads, exactly_once_v2, RocksDB (peers/kafka-streams);
 * - @kafkats/flow 0.12, exactly-once, on a smaller input (it runs at hundreds of votes/s);
 * - the broker's ceiling: Kafka's ProducerPerformance and ConsumerPerformance on the same topic shape.
 * Each contender's run: the input produced to a fresh prefix before the clock starts, the contender
 * started, timed until its group committed the end of `votes`; its process's CPU and the broker's
 * CPU over that time; for ours, what exactly-once cost at that moment (exactly-once-cost.ts); then
 * a latency probe at a steady rate; then its outputs checked record by record against the expected
 * first votes (a difference fails the benchmark).
 */
import { BenchmarkError } from '../errors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { createProgress } from '../../runtime/progress.js';
import type { Election } from '../../voting/election.js';
import { topicNames } from '../../voting/topics.js';
import { generateVotes, sampleElections } from '../../voting/vote-generator.js';
import { benchPrefix, deleteBenchTopics, provisionBenchTopics, recordsInput, voteRecords, type BenchInput } from '../bench-input.js';
import { dedupGroupId, waitForDedup } from '../dedup-completion.js';
import { checkDedupOutputs } from '../output-check.js';
import { cpuSeconds } from '../process-cpu.js';
import { machineInfo, type BenchmarkResult } from '../result.js';
import { startBenchWorker } from '../worker-processes.js';
import { measureExactlyOnceCost, type ExactlyOnceCost } from './exactly-once-cost.js';
import { brokerCpuSeconds, ensureKafkaTools, runConsumerPerformance, runProducerPerformance, withFreshTopic } from './broker-ceiling.js';
import { ensureKafkaStreamsPeerBuilt, startKafkaStreamsPeer } from './kafka-streams-peer.js';
import { startKafkatsFlowPeer } from './kafkats-flow-peer.js';
import { probeLatency } from './latency-probe.js';

export const CONTENDERS = ['votestream', 'votestream-kafkajs', 'kafka-streams', 'kafkats-flow', 'broker'] as const;
export type Contender = (typeof CONTENDERS)[number];
/** Ours on the configured driver, and ours on kafkajs. */
export type OurContender = Extract<Contender, 'votestream' | 'votestream-kafkajs'>;
const isOurs = (c: Contender): c is OurContender => c === 'votestream' || c === 'votestream-kafkajs';
/**
 * What `--contenders` runs unless told: all but votestream-kafkajs. At kafkajs's rate (5,707
 * votes/s beside 17,481 on platformatic, 200,000 votes, dev-2c) its 1,000,000 votes a round would
 * add about as much again as the default run takes, not under a third; name it to run it.
 */
export const DEFAULT_CONTENDERS: readonly Contender[] = ['votestream', 'kafka-streams', 'kafkats-flow', 'broker'];

export interface PeersBenchmarkOptions {
  /** The harness's client (input, progress, probe, output checks). */
  readonly driver: KafkaDriver;
  /** The Kafka client of the `votestream` contender's workers (the CLI's --driver). */
  readonly driverName: KafkaDriverName;
  readonly brokers: string;
  readonly logger: Logger;
  readonly command: string;
  readonly votes: number;
  readonly rounds: number;
  readonly duplicateRatio: number;
  readonly partitions: number;
  /** Kafka Streams' num.stream.threads, and our worker processes: the same number of cores each. */
  readonly threads: number;
  /** @kafkats/flow's input (it is much slower). */
  readonly flowVotes: number;
  /** The latency probe after each run: votes/s offered and seconds (0: no probe). */
  readonly probeRate: number;
  readonly probeSeconds: number;
  readonly contenders: readonly Contender[];
  readonly timeoutMs: number;
  /** Added to our workers' command line (e.g. --no-overlap-commits, to measure one lever). */
  readonly workerArgs?: readonly string[];
}

/** One contender's run. */
export interface ContenderRun {
  readonly contender: Contender;
  readonly round: number;
  readonly votes: number;
  readonly wallSeconds: number;
  readonly votesPerSecond: number;
  readonly cpuSeconds: number;
  readonly cpuMicrosPerVote: number;
  readonly brokerCpuMicrosPerVote?: number;
  /** Latency probe: intended send -> visible in votes-accepted (ms). */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly accepted?: number;
  readonly rejected?: number;
  /** Ours: the Kafka client of the workers. */
  readonly driver?: KafkaDriverName;
  /** Ours: transactional producers, transactions per commit and broker connections at the end of the timed run. */
  readonly cost?: ExactlyOnceCost;
}

export interface PeersBenchmarkResult extends BenchmarkResult<Record<string, number | string>> {
  readonly runs: readonly ContenderRun[];
}

interface Started {
  readonly pid: number;
  readonly groupId: string;
  /** Ours: the worker's /metrics, once it has logged it. */
  metricsUrl?(): string | undefined;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  tail(): unknown[];
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The Kafka client our contender's workers run on. */
const driverOf = (c: OurContender, o: PeersBenchmarkOptions): KafkaDriverName => (c === 'votestream-kafkajs' ? 'kafkajs' : o.driverName);

async function startContender(c: Exclude<Contender, 'broker'>, o: PeersBenchmarkOptions, prefix: string, stateDir: string): Promise<Started[]> {
  if (isOurs(c)) {
    // Named on the command line rather than inherited (KAFKA_DRIVER): the flag beats the
    // environment, so votestream-kafkajs is on kafkajs even when the harness is not.
    const driverArgs = ['--driver', driverOf(c, o)];
    return Array.from({ length: o.threads }, (_, i) => {
      let metricsUrl: string | undefined;
      const w = startBenchWorker({
        brokers: o.brokers,
        prefix,
        stateDir,
        instanceId: `${prefix}w${i}`,
        guarantee: 'exactly_once_v2',
        extraArgs: [...driverArgs, ...(o.workerArgs ?? [])],
        onLog: (line) => {
          if (line.msg === 'metrics served' && typeof line.url === 'string') metricsUrl = line.url;
          if (Number(line.level) >= 50) o.logger.warn({ contender: c, worker: i, line }, 'worker logged an error');
        },
      });
      return { pid: w.pid, groupId: dedupGroupId(prefix), exited: w.exited, metricsUrl: () => metricsUrl, stop: () => w.stop(), tail: () => w.tail() };
    });
  }
  if (c === 'kafka-streams') {
    const p = await startKafkaStreamsPeer({ brokers: o.brokers, prefix, threads: o.threads, stateDir, logger: o.logger });
    return [{ pid: p.pid, groupId: p.groupId, exited: p.exited, stop: () => p.stop(), tail: () => p.tail() }];
  }
  const p = await startKafkatsFlowPeer({ brokers: o.brokers, prefix, stateDir, logger: o.logger });
  return [{ pid: p.pid, groupId: p.groupId, exited: p.exited, stop: () => p.stop(), tail: () => p.tail() }];
}

async function runStreamsContender(
  c: Exclude<Contender, 'broker'>,
  round: number,
  o: PeersBenchmarkOptions,
  elections: readonly Election[],
  input: BenchInput,
  expected: { firstVoteIds: ReadonlyMap<string, string>; duplicates: number },
): Promise<ContenderRun> {
  const log = o.logger.child({ contender: c, round });
  const prefix = benchPrefix(c === 'votestream' ? 'peers-vs' : c === 'votestream-kafkajs' ? 'peers-vsj' : c === 'kafka-streams' ? 'peers-ks' : 'peers-flow');
  const stateDir = mkdtempSync(join(tmpdir(), 'votestream-bench-peers-'));
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench-peers' });
  let started: Started[] = [];
  try {
    await provisionBenchTopics(o.driver, prefix, o.partitions, elections);
    const bar = createProgress(`${c} round ${round}: producing`, input.count, { unit: 'votes' });
    await input.write(topicNames(prefix).votes, (n) => bar.update(n)).finally(() => bar.stop());
    const broker0 = brokerCpuSeconds();
    const t0 = Date.now();
    started = await startContender(c, o, prefix, stateDir);
    const died = new Promise<never>((_, reject) => {
      for (const s of started) void s.exited.then((code) => reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `${c} (pid ${s.pid}) exited with code ${code}: ${JSON.stringify(s.tail().slice(-10))}`)));
    });
    died.catch(() => undefined);
    const progress = createProgress(`${c} round ${round}: dedup`, input.count, { unit: 'votes' });
    const done = await waitForDedup({ admin, prefix, since: t0, timeoutMs: o.timeoutMs, groupId: started[0].groupId, abort: died, onProgress: (n) => progress.update(n) }).finally(() => progress.stop());
    const cpu = started.reduce((n, s) => n + (cpuSeconds(s.pid) ?? 0), 0);
    const broker1 = brokerCpuSeconds();
    const wallSeconds = (done.doneAt - t0) / 1000;
    const cost = isOurs(c)
      ? await measureExactlyOnceCost({ driver: driverOf(c, o), prefix, brokers: o.brokers, workers: started.map((s) => ({ pid: s.pid, metricsUrl: s.metricsUrl?.() })) })
      : undefined;
    if (isOurs(c) && cost === undefined) log.warn('a worker did not serve its metrics: no exactly-once cost for this run');
    let probe: Awaited<ReturnType<typeof probeLatency>> | undefined;
    if (o.probeRate > 0 && o.probeSeconds > 0) probe = await probeLatency({ driver: o.driver, prefix, partitions: o.partitions, elections, rate: o.probeRate, seconds: o.probeSeconds });
    await Promise.all(started.map((s) => s.stop()));
    started = [];
    const firstVoteIds = new Map([...expected.firstVoteIds, ...(probe?.firstVoteIds ?? [])]);
    const counts = await checkDedupOutputs({ driver: o.driver, prefix, partitions: o.partitions, firstVoteIds, duplicates: expected.duplicates });
    const run: ContenderRun = {
      contender: c,
      round,
      votes: input.count,
      wallSeconds: round2(wallSeconds),
      votesPerSecond: Math.round(input.count / wallSeconds),
      cpuSeconds: round2(cpu),
      cpuMicrosPerVote: round1((cpu * 1e6) / input.count),
      ...(broker0 !== undefined && broker1 !== undefined ? { brokerCpuMicrosPerVote: round1(((broker1 - broker0) * 1e6) / input.count) } : {}),
      ...(probe !== undefined && probe.missing === 0 ? { p50Ms: round1(probe.histogram.getValueAtPercentile(50) / 1000), p99Ms: round1(probe.histogram.getValueAtPercentile(99) / 1000) } : {}),
      ...counts,
      ...(isOurs(c) ? { driver: driverOf(c, o) } : {}),
      ...(cost !== undefined ? { cost } : {}),
    };
    if (probe !== undefined && probe.missing > 0) log.warn({ missing: probe.missing }, 'latency probe: votes never seen');
    log.info({ ...run }, 'run finished, outputs exact');
    return run;
  } finally {
    await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
    await admin.close().catch(() => undefined);
    await deleteBenchTopics(o.driver, prefix);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The broker's ceiling for records of the votes' mean size: produce them, then consume them. */
async function runBrokerCeiling(round: number, o: PeersBenchmarkOptions, recordSize: number): Promise<ContenderRun[]> {
  const log = (msg: string): void => o.logger.info({ contender: 'broker', round }, msg);
  await ensureKafkaTools(log);
  return withFreshTopic(o.brokers, o.partitions, async (topic) => {
    const b0 = brokerCpuSeconds();
    const produced = await runProducerPerformance({ brokers: o.brokers, topic: topic.name, records: o.votes, recordSize, log });
    const b1 = brokerCpuSeconds();
    const consumed = await runConsumerPerformance({ brokers: o.brokers, topic: topic.name, messages: o.votes, isolation: 'read_committed', log });
    const b2 = brokerCpuSeconds();
    const perVote = (cpu: number): number => round1((cpu * 1e6) / o.votes);
    const broker = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? { brokerCpuMicrosPerVote: perVote(b - a) } : {});
    return [
      { contender: 'broker', round, votes: produced.records, wallSeconds: round2(produced.records / produced.recordsPerSecond), votesPerSecond: Math.round(produced.recordsPerSecond), cpuSeconds: round2(produced.cpuSeconds), cpuMicrosPerVote: perVote(produced.cpuSeconds), p50Ms: produced.p50Ms, p99Ms: produced.p99Ms, ...broker(b0, b1) },
      { contender: 'broker', round, votes: consumed.records, wallSeconds: round2(consumed.fetchMs / 1000), votesPerSecond: Math.round(consumed.recordsPerSecond), cpuSeconds: round2(consumed.cpuSeconds), cpuMicrosPerVote: perVote(consumed.cpuSeconds), ...broker(b1, b2) },
    ];
  });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function runPeersBenchmark(o: PeersBenchmarkOptions): Promise<PeersBenchmarkResult> {
  const log = o.logger.child({ benchmark: 'peers' });
  const elections = sampleElections(3);
  const generated = generateVotes({ count: o.votes, duplicateRatio: o.duplicateRatio, elections, seed: 42 });
  const records = voteRecords(topicNames('').votes, generated.votes);
  const input = recordsInput(o.driver, records);
  const expected = { firstVoteIds: generated.firstVoteIds, duplicates: generated.duplicates };
  const recordSize = Math.round(records.reduce((n, r) => n + (r.value?.length ?? 0), 0) / Math.max(1, records.length));
  const flow = o.contenders.includes('kafkats-flow') ? generateVotes({ count: o.flowVotes, duplicateRatio: o.duplicateRatio, elections, seed: 43 }) : undefined;
  log.info({ votes: o.votes, distinct: expected.firstVoteIds.size, duplicates: expected.duplicates, recordSize, rounds: o.rounds }, 'input generated');
  if (o.contenders.includes('kafka-streams')) await ensureKafkaStreamsPeerBuilt((m) => log.info(m));

  const runs: ContenderRun[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    // Interleaved: votestream, votestream on kafkajs, Kafka Streams, (the broker), in the same order every round.
    if (o.contenders.includes('votestream')) runs.push(await runStreamsContender('votestream', round, o, elections, input, expected));
    if (o.contenders.includes('votestream-kafkajs')) runs.push(await runStreamsContender('votestream-kafkajs', round, o, elections, input, expected));
    if (o.contenders.includes('kafka-streams')) runs.push(await runStreamsContender('kafka-streams', round, o, elections, input, expected));
    if (o.contenders.includes('broker')) runs.push(...(await runBrokerCeiling(round, o, recordSize)));
  }
  if (flow !== undefined) {
    const flowInput = recordsInput(o.driver, voteRecords(topicNames('').votes, flow.votes));
    runs.push(await runStreamsContender('kafkats-flow', 1, { ...o, probeRate: Math.min(o.probeRate, 100) }, elections, flowInput, { firstVoteIds: flow.firstVoteIds, duplicates: flow.duplicates }));
  }
  return { benchmark: 'peers', command: o.command, date: new Date().toISOString(), machine: machineInfo(), parameters: { driver: o.driverName, votes: o.votes, rounds: o.rounds, duplicates: o.duplicateRatio, partitions: o.partitions, threads: o.threads, flowVotes: o.flowVotes, probeRate: o.probeRate, probeSeconds: o.probeSeconds, contenders: o.contenders.join(',') }, figures: peersFigures(runs), runs };
}

/**
 * Medians over the rounds, and our ratios to each peer (votes/s: ours / theirs; CPU: ours / theirs);
 * votestream-kafkajs's ratios to votestream (the configured driver) and to Kafka Streams; for ours,
 * the exactly-once cost (transactional producers, transactions per commit, broker connections).
 */
export function peersFigures(runs: readonly ContenderRun[]): Record<string, number | string> {
  const figures: Record<string, number | string> = {};
  const streams = (c: Contender) => runs.filter((r) => r.contender === c && r.accepted !== undefined);
  const summary = (c: Contender) => {
    const rs = streams(c);
    return rs.length === 0 ? undefined : { votesPerSecond: median(rs.map((r) => r.votesPerSecond)), cpu: median(rs.map((r) => r.cpuMicrosPerVote)), p99: rs.every((r) => r.p99Ms !== undefined) ? median(rs.map((r) => r.p99Ms!)) : undefined, broker: rs.every((r) => r.brokerCpuMicrosPerVote !== undefined) ? median(rs.map((r) => r.brokerCpuMicrosPerVote!)) : undefined };
  };
  const ratios = (a: string, x: { votesPerSecond: number; cpu: number }, b: string, y: { votesPerSecond: number; cpu: number }) => {
    figures[`${a} / ${b}: votes/s ratio`] = round2(x.votesPerSecond / y.votesPerSecond);
    figures[`${a} / ${b}: CPU per vote ratio`] = round2(x.cpu / y.cpu);
  };
  const ours = summary('votestream');
  const onKafkajs = summary('votestream-kafkajs');
  for (const c of ['votestream', 'votestream-kafkajs', 'kafka-streams', 'kafkats-flow'] as const) {
    const s = summary(c);
    if (s === undefined) continue;
    const driver = streams(c)[0].driver;
    const name = driver !== undefined ? `${c} (${driver})` : c;
    figures[`${name}: votes/s (median)`] = s.votesPerSecond;
    figures[`${name}: CPU µs/vote`] = s.cpu;
    if (s.broker !== undefined) figures[`${name}: broker CPU µs/vote`] = s.broker;
    if (s.p99 !== undefined) figures[`${name}: p99 ms (probe)`] = s.p99;
    const costs = streams(c).flatMap((r) => (r.cost !== undefined ? [r.cost] : []));
    if (costs.length > 0) {
      figures[`${name}: transactional producers open`] = median(costs.map((x) => x.transactionalProducers));
      figures[`${name}: transactions per commit`] = median(costs.map((x) => x.transactionsPerCommit));
      if (costs.every((x) => x.brokerConnections !== undefined)) figures[`${name}: TCP connections to the broker`] = median(costs.map((x) => x.brokerConnections!));
    }
    if (c === 'votestream-kafkajs') {
      if (ours !== undefined) ratios(c, s, 'votestream', ours);
      const ks = summary('kafka-streams');
      if (ks !== undefined) ratios(c, s, 'kafka-streams', ks);
    } else if (c !== 'votestream' && ours !== undefined) ratios('votestream', ours, c, s);
  }
  const broker = runs.filter((r) => r.contender === 'broker');
  const producer = broker.filter((r) => r.p99Ms !== undefined);
  const consumer = broker.filter((r) => r.p99Ms === undefined);
  if (producer.length > 0) {
    figures['broker ProducerPerformance: records/s (median)'] = median(producer.map((r) => r.votesPerSecond));
    figures['broker ProducerPerformance: p99 ms'] = median(producer.map((r) => r.p99Ms!));
    figures['broker ProducerPerformance: client CPU µs/record'] = median(producer.map((r) => r.cpuMicrosPerVote));
    if (ours !== undefined) figures['votestream / broker producer: votes/s ratio'] = round2(ours.votesPerSecond / median(producer.map((r) => r.votesPerSecond)));
    if (onKafkajs !== undefined) figures['votestream-kafkajs / broker producer: votes/s ratio'] = round2(onKafkajs.votesPerSecond / median(producer.map((r) => r.votesPerSecond)));
  }
  if (consumer.length > 0) {
    figures['broker ConsumerPerformance: records/s (median)'] = median(consumer.map((r) => r.votesPerSecond));
    figures['broker ConsumerPerformance: client CPU µs/record'] = median(consumer.map((r) => r.cpuMicrosPerVote));
  }
  for (const r of runs) {
    const cost = r.cost === undefined ? '' : `, ${r.cost.transactionalProducers} tx producers, ${r.cost.transactionsPerCommit} tx/commit${r.cost.brokerConnections !== undefined ? `, ${r.cost.brokerConnections} broker connections` : ''}`;
    figures[`run ${r.contender} r${r.round}${r.contender === 'broker' ? (r.p99Ms !== undefined ? ' produce' : ' consume') : ''}`] = `${r.votesPerSecond} votes/s, ${r.cpuMicrosPerVote} µs/vote${r.p99Ms !== undefined ? `, p99 ${r.p99Ms} ms` : ''}${cost}`;
  }
  return figures;
}

/** One Markdown table of every run, in run order: what `bench peers` prints after its figures. */
export function peersTable(runs: readonly ContenderRun[]): string {
  const n = (x: number | undefined): string => (x === undefined ? '' : x.toLocaleString('en-US'));
  const rows = runs.map((r) => {
    const what = r.contender === 'broker' ? (r.p99Ms !== undefined ? 'broker: ProducerPerformance' : 'broker: ConsumerPerformance') : r.driver !== undefined ? `${r.contender} (${r.driver})` : r.contender;
    const outputs = r.accepted === undefined ? '' : `exact (${n(r.accepted)} accepted, ${n(r.rejected)} rejected)`;
    const cost = r.cost === undefined ? ['', '', ''] : [n(r.cost.transactionalProducers), r.cost.transactionsPerCommit.toFixed(2), n(r.cost.brokerConnections)];
    const cells = [String(r.round), what, n(r.votes), n(r.votesPerSecond), n(r.cpuMicrosPerVote), n(r.brokerCpuMicrosPerVote), n(r.p99Ms), ...cost, outputs];
    return `| ${cells.join(' | ')} |`;
  });
  return [
    '| round | contender | votes | votes/s | CPU µs/vote | broker CPU µs/vote | p99 ms | tx producers | tx / commit | broker TCP conns | outputs |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
