/**
 * `votestream bench run`: the election-night load test. A fresh deployment prefix (topics, tables,
 * Redis keys), the pipeline as separate processes (benchmarks/run/pipeline-processes.ts), open-loop
 * generators offering the vote plan's schedule (benchmarks/run/vote-plan.ts) through Kafka or the
 * gateway, and, every second: what was offered, acknowledged, judged, counted and persisted, each
 * group's lag, the totals in Redis and in the feed. At the end: latencies from each vote's
 * intended send time, the CPU and RSS of every process, the cost model, and a correctness verdict.
 */
import type { BenchContext } from '../bench-context.js';
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type * as hdr from 'hdr-histogram-js';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackStatus, type ServiceName } from '../../infra/stack.js';
import { stackConfig } from '../../infra/stack-config.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { ProcessingGuarantee } from '../../runtime/streams-config.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { provisionVoting } from '../../voting/provision.js';
import { createRedisClient, type RedisClient } from '../../sinks/redis-client.js';
import { countsKey, offsetsKey, regionsKey } from '../../voting/redis-keys.js';
import { tableNames, topicNames } from '../../voting/topics.js';
import { deleteBenchTopics, produceRecords } from '../bench-input.js';
import { machineInfo } from '../result.js';
import { arrivalLatencies, newLatencyHistogram } from './arrival-latency.js';
import { costModel } from './cost-model.js';
import { startGenerators } from './generators.js';
import { readGroupPositions, type GroupPosition } from './group-progress.js';
import { latencySummary } from './latency-summary.js';
import { startPipeline, type Pipeline } from './pipeline-processes.js';
import type { ProcessUsage, RunParameters, RunReport, SecondSample, Stage, StageCommits } from './run-report.js';
import { scrapeMetrics, sumMetric } from '../metrics-scrape.js';
import { judgeRun } from './run-verdict.js';
import { createRunProgress } from './terminal-progress.js';
import { watchFeedTotals, watchRedisTotals } from './total-watchers.js';
import { UsageSampler, type MeasuredProcess } from './usage-sampler.js';
import { expectedCounts, firstValidDueTimes, planElections, VotePlan, type VotePlanOptions } from './vote-plan.js';

/** What the report's parameters say, plus where the services are and how to finish. */
export interface BenchRunOptions extends Omit<RunParameters, 'guarantee'>, BenchContext {
  readonly guarantee: ProcessingGuarantee;
  /** After the load: how long the count path may take to drain, and the persist path. */
  readonly drainTimeoutMs: number;
  /** Leave topics, tables and Redis keys in place. */
  readonly keep: boolean;
  /** Quiet progress (no terminal line). */
  readonly quiet?: boolean;
}

export async function runBenchRun(o: BenchRunOptions): Promise<RunReport> {
  const log = o.logger.child({ benchmark: 'run' });
  const runId = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const prefix = `bench-${runId}-`;
  const { rate, durationS, warmupS, voters, dupRatio, elections: electionCount, candidates, regions } = o;
  const planOptions: VotePlanOptions = { runId, rate, durationS, warmupS, voters, dupRatio, elections: electionCount, candidates, regions };
  const plan = new VotePlan(planOptions);
  const elections = planElections(planOptions, Date.now());
  const dynamodb = dynamoClient(o.dynamodbEndpoint);
  const redis = createRedisClient(o.redis, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  const tokenSecret = randomBytes(32).toString('base64url');
  let pipeline: Pipeline | undefined;
  // Whatever runs beside the pipeline, stopped also when the run fails half-way (newest first).
  const running: Array<{ stop(): Promise<void> }> = [];
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench-run' });
  try {
    log.info({ prefix, votes: plan.total, voters: plan.voterCount, elections: elections.map((e) => e.electionId) }, 'provisioning');
    await provisionVoting({ brokers: o.brokers, dynamodb, prefix, partitions: o.partitions });
    await produceRecords(o.driver, elections.map((e) => electionRecord(e, prefix)));

    pipeline = await startPipeline({
      brokers: o.brokers,
      redis: o.redis,
      dynamodbEndpoint: o.dynamodbEndpoint,
      prefix,
      guarantee: o.guarantee,
      partitions: o.partitions,
      withGateway: o.via === 'http',
      tokenSecret,
      onError: (name, line) => log.warn({ process: name, line }, 'a pipeline process logged an error'),
    });
    log.info({ processes: pipeline.processes.map((p) => ({ name: p.name, pid: p.process.pid })), feed: pipeline.feedUrl, gateway: pipeline.gatewayUrl }, 'pipeline ready');

    const measured: MeasuredProcess[] = pipeline.processes.map((p) => ({ name: p.name, stage: p.stage, pid: p.process.pid, startedByRun: true }));
    measured.push(...(await stackProcesses(o)));
    const usage = new UsageSampler(measured);

    const redisTotals = watchRedisTotals({ redisUrl: o.redis, prefix, electionIds: plan.electionIds });
    const feedTotals = watchFeedTotals({ feedUrl: pipeline.feedUrl, electionIds: plan.electionIds });
    running.push(redisTotals, feedTotals);

    // Vote 0 is due a moment from now, so every generator has started and connected by then.
    const startAt = Date.now() + 3000;
    const warmupEnd = startAt + o.warmupS * 1000;
    let tick = { sent: 0, acknowledged: 0, failed: 0, behindMs: 0 };
    const generators = startGenerators({
      count: o.generators,
      config: {
        plan: planOptions,
        startAt,
        via: o.via,
        ...(o.via === 'kafka' ? { kafka: { brokers: o.brokers, topic: topicNames(prefix).votes } } : { http: { url: pipeline.gatewayUrl! } }),
      },
      env: { VOTESTREAM_TOKEN_SECRET: tokenSecret },
      onTick: (t) => (tick = t),
    });
    running.push(generators);
    for (const pid of generators.pids) usage.add({ name: `generator ${pid}`, stage: 'generator', pid, startedByRun: true });
    await sleepUntil(startAt);
    usage.markStart();

    const progress = createRunProgress({ durationS: o.durationS, warmupS: o.warmupS, quiet: o.quiet });
    // p99 so far on the terminal, as if no vote failed (the report's figure uses the real failures).
    const dueIfAllAcknowledged = Float64Array.from(firstValidDueTimes(plan, new Set()), (d) => startAt + d);
    let p99SoFar: number | undefined;
    const seconds: SecondSample[] = [];
    let previous: { tick: typeof tick; position: GroupPosition | undefined } = { tick, position: undefined };
    let generatorsDone = false;
    const done = generators.done.finally(() => (generatorsDone = true));
    done.catch(() => undefined);
    const sampleSecond = async (t: number): Promise<SecondSample> => {
      const position = await readGroupPositions(admin, prefix).catch(() => previous.position);
      const now = tick;
      const delta = (k: 'dedup' | 'count' | 'persist'): number => Math.max(0, (position?.committed[k] ?? 0) - (previous.position?.committed[k] ?? 0));
      const due = (s: number): number => Math.min(plan.total, Math.max(0, Math.ceil(s * o.rate)));
      const sample: SecondSample = {
        t,
        offered: due(t) - due(t - 1),
        sent: now.sent - previous.tick.sent,
        acknowledged: now.acknowledged - previous.tick.acknowledged,
        failed: now.failed - previous.tick.failed,
        dedup: delta('dedup'),
        count: delta('count'),
        persist: delta('persist'),
        lag: position?.lag ?? { dedup: 0, count: 0, persist: 0 },
        redisTotal: redisTotals.trace.latest,
        feedTotal: feedTotals.trace.latest,
      };
      previous = { tick: now, position };
      return sample;
    };

    // Load: one sample a second until every generator is done, then drain until the count path
    // has everything (the persist path is waited for by the verdict, up to its own bound).
    const loadSeconds = o.warmupS + o.durationS;
    let deadline = Number.POSITIVE_INFINITY;
    for (let t = 1; ; t++) {
      await Promise.race([sleepUntil(startAt + t * 1000), pipeline.died]);
      const s = await sampleSecond(t);
      seconds.push(s);
      if (t % 5 === 0 && t > o.warmupS) {
        const h = arrivalLatencies(redisTotals.trace.samples(), dueIfAllAcknowledged, warmupEnd).histogram;
        p99SoFar = h.totalCount > 0 ? h.getValueAtPercentile(99) / 1000 : undefined;
      }
      progress.update(s, p99SoFar === undefined ? {} : { p99ToRedisMs: p99SoFar });
      if (t === 5 || t % 10 === 0) log.info({ ...s }, 'second');
      if (!generatorsDone) continue;
      if (deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + o.drainTimeoutMs;
      // A caught-up group on votes-accepted sits one commit marker per partition below the end.
      const drained = s.lag.dedup === 0 && s.lag.count <= o.partitions;
      if ((t >= loadSeconds && drained) || Date.now() > deadline) break;
    }
    progress.stop();
    const gen = await done;
    const loadEndedAt = gen.lastSendAt;
    const failed = gen.failedIndices;
    const expected = expectedCounts(plan, failed);
    const expectedTotal = [...expected.values()].reduce((n, e) => n + e.total, 0);
    // The count path: until Redis holds every expected vote or the bound passes.
    const countDeadline = Date.now() + o.drainTimeoutMs;
    while (redisTotals.trace.latest < expectedTotal && Date.now() < countDeadline) await new Promise((r) => setTimeout(r, 50));
    // The feed pushes at most every 250 ms: give it one more interval to show the last total.
    const feedDeadline = Date.now() + 2000;
    while (feedTotals.trace.latest < expectedTotal && Date.now() < feedDeadline) await new Promise((r) => setTimeout(r, 50));

    const verdict = await judgeRun({ driver: o.driver, redis, dynamodb, prefix, partitions: o.partitions, expected, acknowledged: gen.acknowledged, dynamodbDrainBoundMs: o.drainTimeoutMs, loadEndedAt });
    const processes: readonly ProcessUsage[] = usage.markEnd();
    const commits = await stageCommits(pipeline);
    await redisTotals.stop();
    await feedTotals.stop();

    const due = Float64Array.from(firstValidDueTimes(plan, failed), (d) => startAt + d);
    const toRedis = arrivalLatencies(redisTotals.trace.samples(), due, warmupEnd);
    const toFeed = arrivalLatencies(feedTotals.trace.samples(), due, warmupEnd);
    const measuredVotes = due.filter((d) => d >= warmupEnd).length;
    const window = seconds.filter((s) => s.t > o.warmupS && s.t <= loadSeconds);
    const mean = (k: 'acknowledged' | 'dedup' | 'count' | 'persist'): number => (window.length === 0 ? 0 : Math.round(window.reduce((n, s) => n + s[k], 0) / window.length));
    const ackHistogram: hdr.Histogram = gen.ackHistogram ?? newLatencyHistogram();
    const lastDue = startAt + plan.dueMs(Math.max(0, plan.total - 1));
    const achievedSeconds = Math.max(0.001, (Math.max(lastDue, gen.lastSendAt) - startAt) / 1000);

    const cost = costModel(processes, {
      gateway: gen.acknowledged,
      dedup: gen.acknowledged,
      count: expectedTotal,
      persist: expectedTotal,
      feed: expectedTotal,
      broker: gen.acknowledged,
      redis: expectedTotal,
      dynamodb: expectedTotal,
      generator: gen.sent,
    });
    const report: RunReport = {
      benchmark: 'run',
      command: o.command,
      date: new Date().toISOString(),
      machine: machineInfo(),
      parameters: { rate: o.rate, durationS: o.durationS, warmupS: o.warmupS, voters: o.voters, dupRatio: o.dupRatio, elections: o.elections, candidates: o.candidates, regions: o.regions, partitions: o.partitions, via: o.via, generators: o.generators, guarantee: o.guarantee },
      generator: {
        generators: o.generators,
        offered: plan.total,
        sent: gen.sent,
        acknowledged: gen.acknowledged,
        failed: gen.failed,
        offeredPerSecond: o.rate,
        achievedPerSecond: Math.round(gen.sent / achievedSeconds),
        maxBehindMs: gen.maxBehindMs,
        keptSchedule: gen.maxBehindMs <= 1000,
        ackLatency: latencySummary(ackHistogram),
        statuses: gen.statuses,
      },
      throughput: { acknowledged: mean('acknowledged'), dedup: mean('dedup'), count: mean('count'), persist: mean('persist') },
      latency: {
        method:
          'from each vote\'s intended send time (the schedule, not the actual send); a vote arrives when the observed total (Redis _total polled every 5 ms; the feed\'s SSE snapshots) first reaches its rank among the counted votes in schedule order; votes due in the warm-up are left out' +
          (toRedis.missing + toFeed.missing > 0 ? `; never seen: ${toRedis.missing} in Redis, ${toFeed.missing} in the feed` : ''),
        toRedis: latencySummary(toRedis.histogram, measuredVotes),
        toFeed: latencySummary(toFeed.histogram, measuredVotes),
      },
      seconds,
      processes,
      commits,
      cost,
      verdict,
    };
    log.info({ verdict: verdict.passed, problems: verdict.problems, p99ToRedisMs: report.latency.toRedis.p99, cores: cost.pipelineCoresWithoutBroker }, 'run finished');
    return report;
  } finally {
    for (const r of running.reverse()) await r.stop().catch(() => undefined);
    await pipeline?.stop();
    await admin.close().catch(() => undefined);
    if (!o.keep) await cleanUp(o.driver, dynamodb, redis, prefix, plan.electionIds);
    redis.disconnect();
    dynamodb.destroy();
  }
}

/** Each worker's commits from its /metrics (records in: the task counters). */
async function stageCommits(pipeline: Pipeline): Promise<StageCommits[]> {
  const out: StageCommits[] = [];
  for (const p of pipeline.processes) {
    if (p.metricsUrl === undefined) continue;
    const text = await scrapeMetrics(p.metricsUrl);
    const commits = sumMetric(text, 'votestream_commits_total');
    const latency = sumMetric(text, 'votestream_commit_latency_seconds_sum');
    const records = sumMetric(text, 'votestream_task_records_in_total');
    out.push({ stage: p.stage, commits, meanCommitMs: commits > 0 ? Math.round((latency / commits) * 1e5) / 100 : 0, aborts: sumMetric(text, 'votestream_aborts_total'), recordsPerCommit: commits > 0 ? Math.round(records / commits) : 0 });
  }
  return out;
}

/**
 * The local stack's broker, Redis and DynamoDB Local, when the run uses them (same address) and this
 * machine started them (pid files): services elsewhere cannot be measured from here.
 */
async function stackProcesses(o: Pick<BenchRunOptions, 'brokers' | 'redis' | 'dynamodbEndpoint'>): Promise<MeasuredProcess[]> {
  const status = await stackStatus(stackConfig());
  const used: Record<ServiceName, string> = { kafka: o.brokers, redis: o.redis, dynamodb: o.dynamodbEndpoint };
  const stageOf: Record<ServiceName, Stage> = { kafka: 'broker', redis: 'redis', dynamodb: 'dynamodb' };
  const nameOf: Record<ServiceName, string> = { kafka: 'kafka broker', redis: 'redis', dynamodb: 'dynamodb local' };
  return (Object.keys(status) as ServiceName[]).flatMap((name) => {
    const pid = status[name].pid;
    return pid === undefined || status[name].address !== used[name] ? [] : [{ name: nameOf[name], stage: stageOf[name], pid, startedByRun: false }];
  });
}

async function cleanUp(driver: KafkaDriver, dynamodb: ReturnType<typeof dynamoClient>, redis: RedisClient, prefix: string, electionIds: readonly string[]): Promise<void> {
  await deleteBenchTopics(driver, prefix);
  const tables = tableNames(prefix);
  for (const table of [tables.votes, tables.elections]) await dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  // One DEL per election: its keys share a slot, the elections' keys do not (a Redis Cluster refuses a cross-slot DEL).
  await Promise.all(electionIds.map((e) => redis.del(countsKey(e, prefix), regionsKey(e, prefix), offsetsKey(e, prefix)).catch(() => undefined)));
}

async function sleepUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

