import type { BenchContext } from '../../benchmarks/bench-context.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { writeFileSync } from 'node:fs';
import { runCountBenchmark } from '../../benchmarks/count-benchmark.js';
import { runDedupBenchmark, type DedupBenchmarkResult } from '../../benchmarks/dedup-benchmark.js';
import { runFeedBenchmark } from '../../benchmarks/feed-benchmark.js';
import { runGatewayBenchmark } from '../../benchmarks/gateway-benchmark.js';
import { runMemoryBenchmark } from '../../benchmarks/memory-benchmark.js';
import { runRestoreBenchmark } from '../../benchmarks/restore-benchmark.js';
import { resultRows, writeResult, type BenchmarkResult } from '../../benchmarks/result.js';
import { runSinksBenchmark } from '../../benchmarks/sinks-benchmark.js';
import { ConfigError } from '../../runtime/errors.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createLogger } from '../../runtime/logger.js';
import { PROCESSING_GUARANTEES, type ProcessingGuarantee } from '../../runtime/streams-config.js';
import { DEFAULT_PARTITIONS } from '../../voting/topics.js';
import { commandContext, passDriverToChildren, type GlobalArgs } from '../context.js';
import { benchRunCommand } from './bench-run.js';
import { CONTENDERS, DEFAULT_CONTENDERS, peersTable, runPeersBenchmark, type Contender } from '../../benchmarks/peers/peers-benchmark.js';

interface CommonArgs extends GlobalArgs {
  outDir: string;
  timeoutS: number;
}

/** A stage's throughput over a fixed input, per process count (dedup, count). */
interface StageArgs extends CommonArgs {
  votes: number;
  partitions: number;
  processes: string;
  profile: boolean;
  workerArgs: string;
}

interface DedupArgs extends StageArgs {
  duplicates: number;
  guarantees: string;
}

type CountArgs = StageArgs;

interface RestoreArgs extends CommonArgs {
  votes: number;
  duplicates: number;
  partitions: number;
  processes: number;
  guarantee: ProcessingGuarantee;
}

interface MemoryArgs extends CommonArgs {
  voters: number;
  partitions: number;
  step: number;
}

interface SinksArgs extends CommonArgs {
  redisVotes: number;
  dynamoVotes: number;
  rounds: number;
}

/** Exactly what was typed after the program name, for RESULTS.md. */
const typed = (): string => `votestream ${process.argv.slice(2).join(' ')}`;

function common<T extends GlobalArgs>(y: Argv<T>): Argv<T> {
  return y
    .option('out-dir', { type: 'string', default: 'benchmarks/out', describe: 'where the result JSON is written' })
    .option('timeout-s', { type: 'number', default: 900, describe: 'each timed run fails after this many seconds' });
}

function positiveInt(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} must be a positive integer, got ${n}`);
  return n;
}

function list(name: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError(`--${name} needs at least one value`);
  return items;
}

/** Runs one benchmark with a Kafka driver and a JSON-line logger; writes the result and prints its rows. */
async function run<A extends CommonArgs>(
  argv: ArgumentsCamelCase<A>,
  body: (ctx: BenchContext) => Promise<BenchmarkResult<Record<string, number | string>>>,
): Promise<void> {
  const ctx = commandContext(argv);
  passDriverToChildren(ctx.config);
  const logger = createLogger({ level: ctx.config.logLevel, name: 'votestream-bench' });
  const driver = createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-bench' });
  const result = await body({ driver, brokers: ctx.config.brokers, redis: ctx.config.redis, dynamodbEndpoint: ctx.config.dynamodbEndpoint, logger, command: typed() });
  const path = writeResult(result, argv.outDir);
  logger.info({ path, figures: result.figures }, 'result written');
  process.stdout.write(`${resultRows(result)}\n`);
}

function stageOptions<T extends GlobalArgs>(y: Argv<T>, profiled: string): Argv<T> {
  return common(y)
    .option('votes', { type: 'number', default: 1_000_000 })
    .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
    .option('processes', { type: 'string', default: '1,2', describe: 'comma-separated process counts' })
    .option('profile', { type: 'boolean', default: false, describe: `one more ${profiled} run under node --cpu-prof, summarized` })
    .option('worker-args', { type: 'string', default: '', describe: 'extra arguments for our workers, space-separated, as --worker-args=--flag (e.g. --no-overlap-commits): measure one lever' });
}

/** `run`, then the CPU profile's tables when the benchmark took one. */
async function runProfiled<A extends CommonArgs>(argv: ArgumentsCamelCase<A>, body: (ctx: BenchContext) => Promise<DedupBenchmarkResult>): Promise<void> {
  let tables = '';
  await run(argv, async (c) => {
    const result = await body(c);
    tables = profileTables(result);
    return result;
  });
  if (tables !== '') process.stdout.write(tables);
}

function profileTables(result: DedupBenchmarkResult): string {
  if (result.profile === undefined) return '';
  const rows = (entries: readonly { name: string; selfMs: number; selfPercent: number }[]) =>
    entries.map((e) => `| ${e.name.replaceAll('|', '\\|')} | ${e.selfPercent}% | ${e.selfMs.toLocaleString('en-US')} |`).join('\n');
  return [
    '',
    `CPU profile ${result.profile.file}: ${result.profile.durationMs} ms, ${result.profile.samples} samples, busy ${result.profile.busyPercent}%`,
    '',
    '| function (self time) | self % | self ms |',
    '|---|---|---|',
    rows(result.profile.topFunctions),
    '',
    '| module | self % | self ms |',
    '|---|---|---|',
    rows(result.profile.byModule),
    '',
  ].join('\n');
}

const dedupCommand: CommandModule<GlobalArgs, DedupArgs> = {
  command: 'dedup',
  describe: 'dedup throughput: N votes through `worker --roles dedup` per (processes, guarantee), fresh state each, outputs checked',
  builder: (y: Argv<GlobalArgs>) =>
    stageOptions(y, '1-process exactly_once_v2')
      .option('duplicates', { type: 'number', default: 0.2, describe: 'share of votes that repeat an earlier voter, 0..1' })
      .option('guarantees', { type: 'string', default: 'exactly_once_v2,at_least_once', describe: `comma-separated: ${PROCESSING_GUARANTEES.join(', ')}` }) as unknown as Argv<DedupArgs>,
  handler: async (argv) => {
    const processes = list('processes', argv.processes).map((p) => positiveInt('processes', Number(p)));
    const guarantees = list('guarantees', argv.guarantees).map((g) => {
      if (!(PROCESSING_GUARANTEES as readonly string[]).includes(g)) throw new ConfigError(`--guarantees: unknown guarantee "${g}" (${PROCESSING_GUARANTEES.join(', ')})`);
      return g as ProcessingGuarantee;
    });
    if (!(argv.duplicates >= 0 && argv.duplicates < 1)) throw new ConfigError(`--duplicates must be in [0, 1), got ${argv.duplicates}`);
    await runProfiled(argv, (c) =>
      runDedupBenchmark({
        ...c,
        votes: positiveInt('votes', argv.votes),
        duplicateRatio: argv.duplicates,
        partitions: positiveInt('partitions', argv.partitions),
        processes,
        guarantees,
        profile: argv.profile,
        workerArgs: splitArgs(argv.workerArgs),
        profileDir: `${argv.outDir}/profiles`,
        timeoutMs: argv.timeoutS * 1000,
      }),
    );
  },
};

const countCommand: CommandModule<GlobalArgs, CountArgs> = {
  command: 'count',
  describe: 'count throughput (votes-accepted -> Redis): N accepted votes through `worker --roles count` per process count, fresh prefix each, Redis counts checked exactly',
  builder: (y: Argv<GlobalArgs>) =>
    stageOptions(y, '1-process') as unknown as Argv<CountArgs>,
  handler: async (argv) => {
    const processes = list('processes', argv.processes).map((p) => positiveInt('processes', Number(p)));
    await runProfiled(argv, (c) =>
      runCountBenchmark({
        ...c,
        votes: positiveInt('votes', argv.votes),
        partitions: positiveInt('partitions', argv.partitions),
        processes,
        profile: argv.profile,
        workerArgs: splitArgs(argv.workerArgs),
        profileDir: `${argv.outDir}/profiles`,
        timeoutMs: argv.timeoutS * 1000,
      }),
    );
  },
};

const restoreCommand: CommandModule<GlobalArgs, RestoreArgs> = {
  command: 'restore',
  describe: 'restore rate: a dedup run, then the state dir deleted and the worker restarted; restore figures from its logs',
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('votes', { type: 'number', default: 1_000_000 })
      .option('duplicates', { type: 'number', default: 0.2 })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
      .option('processes', { type: 'number', default: 1, describe: 'processes of the restarted worker' })
      .option('guarantee', { choices: PROCESSING_GUARANTEES, default: 'exactly_once_v2' as ProcessingGuarantee }) as unknown as Argv<RestoreArgs>,
  handler: (argv) =>
    run(argv, (c) =>
      runRestoreBenchmark({
        ...c,
        votes: positiveInt('votes', argv.votes),
        duplicateRatio: argv.duplicates,
        partitions: positiveInt('partitions', argv.partitions),
        processes: positiveInt('processes', argv.processes),
        guarantee: argv.guarantee,
        timeoutMs: argv.timeoutS * 1000,
      }),
    ),
};

const memoryCommand: CommandModule<GlobalArgs, MemoryArgs> = {
  command: 'memory',
  describe: "memory: one worker's peak RSS while its store fills with N distinct voters (goal < 512 MiB at 5M)",
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('voters', { type: 'number', default: 5_000_000 })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
      .option('step', { type: 'number', default: 500_000, describe: 'report RSS at every multiple of this many votes' }) as unknown as Argv<MemoryArgs>,
  handler: (argv) =>
    run(argv, (c) =>
      runMemoryBenchmark({
        ...c,
        voters: positiveInt('voters', argv.voters),
        partitions: positiveInt('partitions', argv.partitions),
        step: positiveInt('step', argv.step),
        timeoutMs: argv.timeoutS * 1000,
      }),
    ),
};

const sinksCommand: CommandModule<GlobalArgs, SinksArgs> = {
  command: 'sinks',
  describe: 'sink throughput: RedisCountSink and DynamoVoteSink votes/s, and the raw BatchWriteItem ceiling',
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('redis-votes', { type: 'number', default: 200_000 })
      .option('dynamo-votes', { type: 'number', default: 3_000 })
      .option('rounds', { type: 'number', default: 3, describe: 'DynamoDB rounds (raw, then sink); the best of each is reported' }) as unknown as Argv<SinksArgs>,
  handler: (argv) =>
    run(argv, (c) =>
      runSinksBenchmark({
        redisUrl: c.redis,
        dynamodbEndpoint: c.dynamodbEndpoint,
        redisVotes: positiveInt('redis-votes', argv.redisVotes),
        dynamoVotes: positiveInt('dynamo-votes', argv.dynamoVotes),
        rounds: positiveInt('rounds', argv.rounds),
        command: c.command,
        log: (line) => c.logger.info({ benchmark: 'sinks' }, line),
      }),
    ),
};

interface GatewayBenchArgs extends CommonArgs {
  rate: number;
  durationS: number;
  connections: number;
  voters: number;
  rounds: number;
  partitions: number;
}

const gatewayBenchCommand: CommandModule<GlobalArgs, GatewayBenchArgs> = {
  command: 'gateway',
  describe: 'gateway: accepted votes/s and latency of one gateway process with Kafka acks, and bare (no produce), open-loop load',
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('rate', { type: 'number', default: 5000, describe: 'offered requests/s (open loop)' })
      .option('duration-s', { type: 'number', default: 20 })
      .option('connections', { type: 'number', default: 64 })
      .option('voters', { type: 'number', default: 10_000, describe: 'distinct voter tokens, used in turn' })
      .option('rounds', { type: 'number', default: 2, describe: 'rounds of (full, bare), interleaved; the best of each is reported' })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS }) as unknown as Argv<GatewayBenchArgs>,
  handler: (argv) =>
    run(argv, (c) =>
      runGatewayBenchmark({
        driver: c.driver,
        brokers: c.brokers,
        logger: c.logger,
        command: c.command,
        rate: positiveInt('rate', argv.rate),
        durationS: positiveInt('duration-s', argv.durationS),
        connections: positiveInt('connections', argv.connections),
        voters: positiveInt('voters', argv.voters),
        rounds: positiveInt('rounds', argv.rounds),
        partitions: positiveInt('partitions', argv.partitions),
      }),
    ),
};

interface FeedBenchArgs extends CommonArgs {
  wsClients: number;
  sseClients: number;
  rate: number;
  duration: number;
  clientProcesses: number;
  connectRate: number;
  interval: number;
  port: number;
  json?: string;
}

function nonNegativeInt(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative integer, got ${n}`);
  return n;
}

const feedBenchCommand: CommandModule<GlobalArgs, FeedBenchArgs> = {
  command: 'feed',
  describe: 'feed: one feed process, N WebSocket and SSE clients in other processes, updates published to Redis at a rate: msgs/s, publish-to-receipt latency, feed CPU and RSS, drops',
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('ws-clients', { type: 'number', default: 10_000 })
      .option('sse-clients', { type: 'number', default: 2_000 })
      .option('rate', { type: 'number', default: 4, describe: 'updates published per second' })
      .option('duration', { type: 'number', default: 30, describe: 'seconds of publishing' })
      .option('client-processes', { type: 'number', default: 2, describe: 'client processes per transport' })
      .option('connect-rate', { type: 'number', default: 2_000, describe: 'new streams per second while connecting' })
      .option('interval', { type: 'number', default: 250, describe: "the feed's --interval (at most one snapshot per this many ms)" })
      .option('port', { type: 'number', default: 0, describe: "the feed's port (0: any free one)" })
      .option('json', { type: 'string', describe: 'also write the result JSON to this file' }) as unknown as Argv<FeedBenchArgs>,
  handler: (argv) =>
    run(argv, async (c) => {
      const result = await runFeedBenchmark({
        driver: c.driver,
        brokers: c.brokers,
        redis: c.redis,
        logger: c.logger,
        command: c.command,
        wsClients: nonNegativeInt('ws-clients', argv.wsClients),
        sseClients: nonNegativeInt('sse-clients', argv.sseClients),
        rate: positiveInt('rate', argv.rate),
        durationS: positiveInt('duration', argv.duration),
        clientProcesses: positiveInt('client-processes', argv.clientProcesses),
        connectRate: positiveInt('connect-rate', argv.connectRate),
        intervalMs: positiveInt('interval', argv.interval),
        port: nonNegativeInt('port', argv.port),
      });
      if (argv.json !== undefined) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`);
      return result;
    }),
};

interface PeersArgs extends CommonArgs {
  votes: number;
  rounds: number;
  duplicates: number;
  partitions: number;
  threads: number;
  flowVotes: number;
  probeRate: number;
  probeSeconds: number;
  contenders: string;
  workerArgs: string;
  json?: string;
}

const peersCommand: CommandModule<GlobalArgs, PeersArgs> = {
  command: 'peers',
  describe: 'our dedup (on --driver, and on kafkajs as votestream-kafkajs) beside Apache Kafka Streams 4.1 (exactly_once_v2, RocksDB), @kafkats/flow 0.12 and the broker\'s own ProducerPerformance/ConsumerPerformance: same broker, same input, interleaved rounds, outputs checked; votes/s, CPU µs/vote, p99, our ratios, and our transactional producers, transactions per commit and broker connections',
  builder: (y: Argv<GlobalArgs>) =>
    common(y)
      .option('votes', { type: 'number', default: 1_000_000 })
      .option('rounds', { type: 'number', default: 2, describe: 'rounds of (votestream, votestream-kafkajs, Kafka Streams, broker), interleaved' })
      .option('duplicates', { type: 'number', default: 0.2, describe: 'share of votes that repeat an earlier voter, 0..1' })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
      .option('threads', { type: 'number', default: 1, describe: "Kafka Streams' stream threads, and our worker processes (the same cores each); the votestream contender's workers run on --driver" })
      .option('flow-votes', { type: 'number', default: 5_000, describe: "@kafkats/flow's smaller input (it runs at hundreds of votes/s)" })
      .option('probe-rate', { type: 'number', default: 2_000, describe: 'after each run: votes/s offered for the latency probe (0: none)' })
      .option('probe-seconds', { type: 'number', default: 5 })
      .option('contenders', { type: 'string', default: DEFAULT_CONTENDERS.join(','), describe: `comma-separated: ${CONTENDERS.join(', ')} (votestream-kafkajs: our dedup on kafkajs whatever --driver says)` })
      .option('json', { type: 'string', describe: 'also write the result JSON to this file' })
      .option('worker-args', { type: 'string', default: '', describe: 'extra arguments for our workers, space-separated (e.g. --no-overlap-commits): measure one lever' }) as unknown as Argv<PeersArgs>,
  handler: async (argv) => {
    const contenders = list('contenders', argv.contenders).map((c) => {
      if (!(CONTENDERS as readonly string[]).includes(c)) throw new ConfigError(`--contenders: unknown contender "${c}" (${CONTENDERS.join(', ')})`);
      return c as Contender;
    });
    if (!(argv.duplicates >= 0 && argv.duplicates < 1)) throw new ConfigError(`--duplicates must be in [0, 1), got ${argv.duplicates}`);
    // The driver `run` gives the harness is also the one the votestream contender's workers get.
    const driverName = commandContext(argv).config.driver;
    let table = '';
    await run(argv, async (c) => {
      const result = await runPeersBenchmark({
        driver: c.driver,
        driverName,
        brokers: c.brokers,
        logger: c.logger,
        command: c.command,
        votes: positiveInt('votes', argv.votes),
        rounds: positiveInt('rounds', argv.rounds),
        duplicateRatio: argv.duplicates,
        partitions: positiveInt('partitions', argv.partitions),
        threads: positiveInt('threads', argv.threads),
        flowVotes: positiveInt('flow-votes', argv.flowVotes),
        probeRate: nonNegativeInt('probe-rate', argv.probeRate),
        probeSeconds: positiveInt('probe-seconds', argv.probeSeconds),
        contenders,
        timeoutMs: argv.timeoutS * 1000,
        workerArgs: splitArgs(argv.workerArgs),
      });
      if (argv.json !== undefined) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`);
      table = peersTable(result.runs);
      return result;
    });
    process.stdout.write(`\n${table}\n`);
  },
};

export const benchCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'bench <benchmark>',
  describe: 'benchmarks: run (the whole pipeline under load), peers (beside Kafka Streams and the broker), and the components: dedup, count, restore, memory, sinks, gateway, feed (result JSON in benchmarks/out, Markdown on stdout)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(benchRunCommand)
      .command(peersCommand)
      .command(dedupCommand)
      .command(countCommand)
      .command(restoreCommand)
      .command(memoryCommand)
      .command(sinksCommand)
      .command(gatewayBenchCommand)
      .command(feedBenchCommand)
      .demandCommand(1, 'which benchmark? run, peers, dedup, count, restore, memory, sinks, gateway, feed'),
  handler: () => undefined,
};

/** `--worker-args "--a 1 --b"` -> ['--a', '1', '--b']: plain flags and values, no quoting. */
function splitArgs(text: string): string[] {
  return text.split(/\s+/).filter((a) => a !== '');
}
