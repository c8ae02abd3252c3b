/**
 * `votestream chaos`: faults under load, judged by the auditor's tools. On a stack of its own (its
 * own data dir and ports, since it kills them): the pipeline as processes, a steady open-loop load
 * through the gateway, the scheduled faults one after another at seeded random moments, then a
 * drain and the checks (chaos-checks.ts). The report lists what was injected, when, what was
 * checked, with counts, under Jepsen's anomaly names.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackConfig, type StackConfig } from '../../infra/stack-config.js';
import { killNode, stackNodes, startNode } from '../../infra/stack-nodes.js';
import { stackDown, stackUp } from '../../infra/stack.js';
import { createKafkaDriver, type KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { createProgress } from '../../runtime/progress.js';
import { readPipelineLag } from '../../voting/audit/read-lag.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { provisionVoting } from '../../voting/provision.js';
import { produceRecords } from '../bench-input.js';
import { BenchmarkError } from '../errors.js';
import { startGenerators } from '../run/generators.js';
import { electionIds, planElections, VotePlan, type VotePlanOptions } from '../run/vote-plan.js';
import { auditElection, checkAcknowledged, checkLivePage, cliRunner } from './chaos-checks.js';
import { ChaosPipeline } from './chaos-pipeline.js';
import { sumAnomalies, type ChaosReport, type CheckResult } from './chaos-report.js';
import { applicableFaults, faultSchedule, type FaultKind } from './fault-schedule.js';
import { injectFault, type FaultRecord, type FaultTimings, type StackControl } from './faults.js';
import { LiveViewer } from './live-viewer.js';

export interface ChaosOptions {
  readonly quick: boolean;
  readonly seed: number;
  readonly rate: number;
  readonly workers: number;
  readonly kafkaBrokers: number;
  readonly redisCluster: boolean;
  readonly persist: boolean;
  readonly dataDir: string;
  readonly portOffset: number;
  /** Each fault kind this many times. */
  readonly repeat: number;
  /** Only these kinds (default: every kind the stack's shape allows). */
  readonly kinds?: readonly FaultKind[];
  readonly timings: FaultTimings;
  readonly partitions: number;
  readonly drainTimeoutS: number;
  /** Leave the stack running (and its data) for a look afterwards. */
  readonly keepStack: boolean;
  /** The Kafka client of this process and of every process it starts (env KAFKA_DRIVER); platformatic unless given. */
  readonly driver?: KafkaDriverName;
  readonly logger: Logger;
}

/** What the fault itself takes beyond its timings (restarts, rejoining), for sizing the load. */
const RECOVERY_MS: Record<FaultKind, number> = {
  'kill-worker': 3000,
  'zombie-worker': 0,
  'scale-out-in': 5000,
  'kill-broker': 15_000,
  'kafka-outage': 20_000,
  'kill-redis-master': 3000,
  'redis-restart-lose-data': 2000,
  'restart-dynamodb': 15_000,
  'kill-gateway': 3000,
  'kill-feed': 12_000,
};

function downtimeMs(kind: FaultKind, t: FaultTimings): number {
  switch (kind) {
    case 'zombie-worker':
      return t.zombieMs;
    case 'scale-out-in':
      return t.scaleHoldMs;
    case 'kafka-outage':
      return t.kafkaOutageMs;
    case 'kill-broker':
    case 'kill-redis-master':
      return t.nodeDownMs;
    default:
      return t.processDownMs;
  }
}

/** The built CLI beside this module (dist/cli/main.js). */
function cliPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../cli/main.js');
}

function stackControl(config: StackConfig): StackControl {
  const nodes = stackNodes(config);
  const of = (service: string): string[] => nodes.filter((n) => n.service === service).map((n) => n.name);
  return {
    kafkaNodes: of('kafka'),
    redisNodes: of('redis'),
    dynamodbNode: of('dynamodb')[0],
    kill: async (node) => void (await killNode(config, node, 'SIGKILL')),
    start: (node, options) => startNode(config, node, options),
  };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.logger.child({ component: 'chaos' });
  const started = Date.now();
  const config = stackConfig({ dataDir: o.dataDir, portOffset: o.portOffset, persist: o.persist, kafkaBrokers: o.kafkaBrokers, redisCluster: o.redisCluster });
  // A fresh stack every run: a chaos run judges what it did, not what an earlier run left.
  rmSync(config.dataDir, { recursive: true, force: true });
  log.info({ dataDir: config.dataDir, kafkaBrokers: o.kafkaBrokers, redisCluster: o.redisCluster, persist: o.persist }, 'chaos: starting its own stack');
  const up = await stackUp(config, { log: (msg) => log.info(msg) });
  const brokers = up.kafka.address;
  const redis = up.redis.address;
  const dynamodbEndpoint = up.dynamodb.address;
  const stack = stackControl(config);
  const driverName = o.driver ?? 'platformatic';
  const driver = createKafkaDriver(driverName, { brokers, clientId: 'votestream-chaos' });
  const workDir = mkdtempSync(join(tmpdir(), 'votestream-chaos-'));
  const runId = `c${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const prefix = `chaos-${runId}-`;
  const env = { KAFKA_BROKERS: brokers, KAFKA_DRIVER: driverName, REDIS_URL: redis, DYNAMODB_ENDPOINT: dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: prefix };
  const cli = cliRunner(cliPath(), env);
  const tokenSecret = randomBytes(32).toString('base64url');
  const recoveries = { fenced: 0, other: 0 };
  const pipeline = new ChaosPipeline({
    brokers,
    redis,
    dynamodbEndpoint,
    prefix,
    stateDir: join(workDir, 'state'),
    tokenSecret,
    workers: o.workers,
    readyTimeoutMs: 180_000,
    logDir: join(config.dataDir, 'pipeline-logs'),
    onLog: (name, line) => {
      // The runtime's own account of each recovery: evidence that the faults hit the commit path.
      if (line.msg === 'transaction fenced; recovering') recoveries.fenced++;
      else if (line.msg === 'failure; recovering from committed state') recoveries.other++;
      if (Number(line.level ?? 0) >= 50) log.warn({ process: name, line }, 'chaos: a process logged an error');
    },
  });
  let viewer: LiveViewer | undefined;
  let ok = false;
  try {
    const kinds = o.kinds ?? applicableFaults({ kafkaBrokers: o.kafkaBrokers, redisCluster: o.redisCluster });
    const schedule = faultSchedule({ seed: o.seed, kinds, repeat: o.repeat, minPauseMs: 3000, maxPauseMs: o.quick ? 6000 : 12_000 });
    const faultsMs = schedule.reduce((sum, f) => sum + f.pauseMs + downtimeMs(f.kind, o.timings) + RECOVERY_MS[f.kind], 0);
    // The load outlasts the faults by a tail, so votes also arrive after the last heal.
    const durationS = Math.ceil(faultsMs / 1000) + 20;
    const planOptions: VotePlanOptions = { runId, rate: o.rate, durationS, warmupS: 0, voters: Math.ceil(o.rate * durationS), dupRatio: 0.1, elections: 2, candidates: 4, regions: 3, seed: o.seed };
    const plan = new VotePlan(planOptions);
    const elections = planElections(planOptions, Date.now());

    const dynamodb = dynamoClient(dynamodbEndpoint);
    try {
      await provisionVoting({ brokers, dynamodb, prefix, partitions: o.partitions });
    } finally {
      dynamodb.destroy();
    }
    await produceRecords(driver, elections.map((e) => electionRecord(e, prefix)));
    const keys = await cli(['audit', 'keys', '--out', join(workDir, 'keys')]);
    if (keys.status !== 0) throw new BenchmarkError('BENCHMARK_OUTPUT', `audit keys failed: ${keys.stderr}`);
    const keyFile = join(workDir, 'keys', 'signing.key');

    await pipeline.start();
    viewer = new LiveViewer(pipeline.feedUrl, electionIds(planOptions));
    log.info({ prefix, gateway: pipeline.gatewayUrl, feed: pipeline.feedUrl, workers: pipeline.workers, votes: plan.total, durationS, faults: schedule.map((f) => f.kind) }, 'chaos: pipeline ready, load starting');

    const startAt = Date.now() + 2000;
    const sinceLoad = (): number => Date.now() - startAt;
    const generators = startGenerators({
      count: 1,
      config: { plan: planOptions, startAt, via: 'http', http: { url: pipeline.gatewayUrl } },
      env: { VOTESTREAM_TOKEN_SECRET: tokenSecret },
    });
    const progress = createProgress('chaos load', durationS, { unit: 's' });
    const ticker = setInterval(() => progress.update(Math.max(0, Math.min(durationS, Math.round(sinceLoad() / 1000)))), 1000);
    const faults: FaultRecord[] = [];
    const unhealed: FaultRecord[] = [];
    let load;
    try {
      await sleep(Math.max(0, startAt - Date.now()));
      for (const fault of schedule) {
        await sleep(fault.pauseMs);
        log.info({ fault: fault.kind, atMs: sinceLoad() }, 'chaos: injecting');
        const injectedAtMs = sinceLoad();
        try {
          const record = await injectFault(fault, { pipeline, stack, timings: o.timings, now: sinceLoad });
          faults.push(record);
          log.info({ ...record }, 'chaos: healed');
        } catch (err) {
          // A fault that does not heal is a finding (the run goes on and is judged), not a harness error.
          const record: FaultRecord = { kind: fault.kind, target: '?', injectedAtMs, healedAtMs: sinceLoad(), detail: `did not heal: ${(err as Error).message}` };
          faults.push(record);
          unhealed.push(record);
          log.error({ ...record }, 'chaos: a fault did not heal');
        }
      }
      load = await generators.done;
    } finally {
      clearInterval(ticker);
      progress.stop();
      await generators.stop();
    }
    log.info({ sent: load.sent, acknowledged: load.acknowledged, failed: load.failed, statuses: load.statuses }, 'chaos: load done, draining');

    const drainStarted = Date.now();
    const drained = await drain(driver, prefix, o.drainTimeoutS * 1000);
    const drainS = (Date.now() - drainStarted) / 1000;
    if (!drained.ok) log.warn({ lag: drained.last }, 'chaos: the pipeline did not drain in time; checking what it holds');

    const acknowledged = new Set<string>();
    for (const p of plan.votes()) if (!load.failedIndices.has(p.i)) acknowledged.add(p.vote.voteId);
    const checks: CheckResult[] = [
      {
        name: 'drained',
        ok: drained.ok,
        detail: drained.ok ? `every group at the end of its input after ${drainS.toFixed(1)} s` : `not within ${o.drainTimeoutS} s; last lag ${drained.last}`,
        anomalies: drained.ok ? {} : { 'inconsistent-offsets': 1 },
      },
      await checkAcknowledged(driver, prefix, acknowledged),
    ];
    for (const electionId of electionIds(planOptions)) {
      const audit = await auditElection(cli, electionId, keyFile);
      checks.push(...audit.checks, await checkLivePage(viewer, electionId, audit.official, 30_000));
    }
    viewer.stop();
    checks.push({
      name: 'every fault healed',
      ok: unhealed.length === 0,
      detail: `${faults.length - unhealed.length} of ${faults.length} faults healed: every process and node ready again`,
      anomalies: unhealed.length === 0 ? {} : { unavailable: unhealed.length },
      ...(unhealed.length > 0 ? { examples: unhealed.map((f) => `${f.kind} at ${f.injectedAtMs} ms: ${f.detail}`.slice(0, 400)) } : {}),
    });
    checks.push({
      name: 'no process crashed',
      ok: pipeline.crashes.length === 0,
      detail: `${pipeline.crashes.length} unexpected exit(s)`,
      anomalies: pipeline.crashes.length === 0 ? {} : { crash: pipeline.crashes.length },
      ...(pipeline.crashes.length > 0 ? { examples: pipeline.crashes.map((c) => `${c.name} pid ${c.pid} code ${c.code}: ${JSON.stringify(c.lastLines.at(-1) ?? {}).slice(0, 300)}`) } : {}),
    });
    const anomalies = sumAnomalies(checks);
    ok = checks.every((c) => c.ok) && Object.values(anomalies).every((n) => n === 0);
    return {
      ok,
      logDir: join(config.dataDir, 'pipeline-logs'),
      seed: o.seed,
      quick: o.quick,
      startedAt: new Date(started).toISOString(),
      elapsedS: (Date.now() - started) / 1000,
      stack: { kafkaBrokers: o.kafkaBrokers, redisCluster: o.redisCluster, dynamodbPersist: o.persist, workers: o.workers },
      load: { rate: o.rate, durationS, elections: electionIds(planOptions), offered: load.sent, acknowledged: acknowledged.size, failed: load.failed, statuses: load.statuses },
      faults,
      crashes: pipeline.crashes.map((c) => ({ name: c.name, pid: c.pid, code: c.code, atMs: c.at - startAt })),
      drainS,
      recoveries,
      checks,
      anomalies,
    };
  } finally {
    viewer?.stop();
    await pipeline.stopAll();
    rmSync(workDir, { recursive: true, force: true });
    if (!o.keepStack) {
      await stackDown(config);
      // A failed run keeps its data and the processes' logs for whoever investigates.
      if (ok) rmSync(config.dataDir, { recursive: true, force: true });
    }
  }
}

/**
 * Until every group has committed the end of its input, read twice in a row (a second read catches
 * a group that caught up only with what dedup had not yet written). Kafka may still be recovering
 * from the last fault: a failed read is retried until the timeout. Not drained is a finding, not
 * an error: the checks still run and say what is missing.
 */
async function drain(driver: KafkaDriver, prefix: string, timeoutMs: number): Promise<{ ok: boolean; last: string }> {
  const deadline = Date.now() + timeoutMs;
  let clean = 0;
  let last = 'not read yet';
  while (Date.now() < deadline) {
    try {
      const lag = await readPipelineLag(driver, prefix);
      last = JSON.stringify(lag);
      clean = lag.dedup + lag.count + lag.persist === 0 ? clean + 1 : 0;
      if (clean >= 2) return { ok: true, last };
    } catch (err) {
      last = (err as Error).message;
      clean = 0;
    }
    await sleep(2000);
  }
  return { ok: false, last };
}
