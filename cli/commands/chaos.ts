import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { runChaos } from '../../benchmarks/chaos/chaos-run.js';
import { formatChaosReport } from '../../benchmarks/chaos/chaos-report.js';
import { FAULT_KINDS, type FaultKind } from '../../benchmarks/chaos/fault-schedule.js';
import { BenchmarkError } from '../../benchmarks/errors.js';
import { ConfigError } from '../../runtime/errors.js';
import { DEFAULT_PARTITIONS } from '../../voting/topics.js';
import { commandContext, passDriverToChildren, type GlobalArgs } from '../context.js';

interface ChaosArgs extends GlobalArgs {
  quick: boolean;
  seed?: number;
  rate?: number;
  workers?: number;
  kafkaBrokers?: number;
  redisCluster?: boolean;
  persist?: boolean;
  repeat?: number;
  faults?: string[];
  kafkaOutage?: number;
  dataDir: string;
  portOffset: number;
  partitions: number;
  drainTimeout: number;
  keepStack: boolean;
  json: boolean;
  report?: string;
}

/** The full run and the quick one (inside `npm test`): the same faults, fewer and shorter, on one node of each. */
const PROFILES = {
  full: { rate: 400, workers: 3, kafkaBrokers: 3, redisCluster: true, persist: true, repeat: 2, kafkaOutageS: 30, zombieS: 15, nodeDownS: 8, processDownS: 2, scaleHoldS: 15 },
  quick: { rate: 150, workers: 2, kafkaBrokers: 1, redisCluster: false, persist: false, repeat: 1, kafkaOutageS: 15, zombieS: 14, nodeDownS: 5, processDownS: 1.5, scaleHoldS: 8 },
} as const;

export const chaosCommand: CommandModule<GlobalArgs, ChaosArgs> = {
  command: 'chaos',
  describe:
    'faults under load on a stack of its own: kill -9 and SIGSTOP of workers, broker kills, a Kafka outage, Redis and DynamoDB restarts, scaling, gateway and feed kills; then drain and judge with audit recount/invariants/verify (exit 1 on any anomaly)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('quick', { type: 'boolean', default: false, describe: 'the reduced run of npm test: single nodes, each fault once, shorter outages' })
      .option('seed', { type: 'number', describe: 'fault order, pauses, targets and votes (default: random; the report prints it, give it again to replay)' })
      .option('rate', { type: 'number', describe: 'votes per second offered through the gateway (full 400, quick 150)' })
      .option('workers', { type: 'number', describe: 'worker processes at start, each running every role (full 3, quick 2)' })
      .option('kafka-brokers', { type: 'number', describe: 'brokers of its stack (full 3, quick 1)' })
      .option('redis-cluster', { type: 'boolean', describe: 'a Redis Cluster of three masters (full yes, quick no)' })
      .option('persist', { type: 'boolean', describe: 'DynamoDB Local on disk, so its restart keeps data (full yes; quick: in memory, a restart loses everything)' })
      .option('repeat', { type: 'number', describe: 'times each fault is injected (full 2, quick 1)' })
      .option('faults', { type: 'string', array: true, choices: FAULT_KINDS, describe: 'only these faults (default: all the stack allows)' })
      .option('kafka-outage', { type: 'number', describe: 'seconds every broker stays down (full 30, quick 15)' })
      .option('data-dir', { type: 'string', default: '.stack-chaos', describe: "its stack's data dir (wiped at start and end)" })
      .option('port-offset', { type: 'number', default: 1000, describe: "added to the stack's default ports, so it runs beside the usual stack" })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
      .option('drain-timeout', { type: 'number', default: 300, describe: 'seconds the pipeline may take to catch up after the load' })
      .option('keep-stack', { type: 'boolean', default: false, describe: 'leave its stack running afterwards' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('report', { type: 'string', describe: 'also write the JSON report to this file' })
      .example('$0 chaos', 'the full run: 3 brokers, a Redis Cluster, every fault twice (minutes)')
      .example('$0 chaos --quick --seed 42', 'the quick run, replayable') as unknown as Argv<ChaosArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    passDriverToChildren(ctx.config);
    const p = argv.quick ? PROFILES.quick : PROFILES.full;
    const positiveInt = (name: string, n: number): number => {
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} must be a positive integer, got ${n}`);
      return n;
    };
    const rate = argv.rate ?? p.rate;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new ConfigError(`--rate must be a positive number, got ${rate}`);
    const seed = argv.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got ${seed}`);
    const outageS = argv.kafkaOutage ?? p.kafkaOutageS;
    if (!(outageS > 0)) throw new ConfigError(`--kafka-outage must be positive, got ${outageS}`);
    const report = await runChaos({
      quick: argv.quick,
      seed,
      rate,
      workers: positiveInt('workers', argv.workers ?? p.workers),
      kafkaBrokers: positiveInt('kafka-brokers', argv.kafkaBrokers ?? p.kafkaBrokers),
      redisCluster: argv.redisCluster ?? p.redisCluster,
      persist: argv.persist ?? p.persist,
      repeat: positiveInt('repeat', argv.repeat ?? p.repeat),
      ...(argv.faults !== undefined ? { kinds: argv.faults as FaultKind[] } : {}),
      timings: { zombieMs: p.zombieS * 1000, kafkaOutageMs: outageS * 1000, nodeDownMs: p.nodeDownS * 1000, processDownMs: p.processDownS * 1000, scaleHoldMs: p.scaleHoldS * 1000 },
      dataDir: argv.dataDir,
      portOffset: argv.portOffset,
      partitions: positiveInt('partitions', argv.partitions),
      drainTimeoutS: positiveInt('drain-timeout', argv.drainTimeout),
      keepStack: argv.keepStack,
      driver: ctx.config.driver,
      logger: ctx.log,
    });
    if (argv.report !== undefined) writeFileSync(argv.report, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : formatChaosReport(report));
    if (!report.ok) throw new BenchmarkError('BENCHMARK_OUTPUT', `chaos: ${Object.entries(report.anomalies).filter(([, n]) => n > 0).map(([a, n]) => `${a} ${n}`).join(', ') || 'a check failed'} (seed ${report.seed})`);
  },
};
