import type { Argv, CommandModule } from 'yargs';
import { runBenchRun } from '../../benchmarks/run/bench-run.js';
import { writeRunOutput } from '../../benchmarks/run/run-output.js';
import { runSummaryMarkdown } from '../../benchmarks/run/run-summary-markdown.js';
import { BenchmarkError } from '../../benchmarks/errors.js';
import { ConfigError } from '../../runtime/errors.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { PROCESSING_GUARANTEES, type ProcessingGuarantee } from '../../runtime/streams-config.js';
import { DEFAULT_PARTITIONS } from '../../voting/topics.js';
import { commandContext, passDriverToChildren, type GlobalArgs } from '../context.js';

interface RunArgs extends GlobalArgs {
  rate: number;
  duration: number;
  warmup: number;
  voters?: number;
  dupRatio: number;
  elections: number;
  candidates: number;
  regions: number;
  partitions: number;
  via: 'kafka' | 'http';
  generators: number;
  guarantee: ProcessingGuarantee;
  drainTimeout: number;
  json?: string;
  out?: string;
  keep: boolean;
}

function check(name: string, ok: boolean, value: unknown, what: string): void {
  if (!ok) throw new ConfigError(`--${name} must be ${what}, got ${String(value)}`);
}

export const benchRunCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run',
  describe:
    'the whole pipeline under an open-loop load: offered vs acknowledged, each stage\'s throughput and lag, latency from intended send to Redis and to the feed, CPU and RSS of every process, the cost of 250,000 votes/s, and a correctness verdict (exit 1 when the counts are not exact)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('rate', { type: 'number', default: 20_000, describe: 'votes offered per second (open loop: the schedule does not wait for the system)' })
      .option('duration', { type: 'number', default: 30, describe: 'seconds measured, after the warm-up' })
      .option('warmup', { type: 'number', default: 5, describe: 'seconds of load before the measured window (counted, not in the latencies)' })
      .option('voters', { type: 'number', describe: 'distinct voters at most (default: one per vote, so only --dup-ratio repeats)' })
      .option('dup-ratio', { type: 'number', default: 0.1, describe: 'share of votes that repeat an earlier voter, 0..1' })
      .option('elections', { type: 'number', default: 1 })
      .option('candidates', { type: 'number', default: 8 })
      .option('regions', { type: 'number', default: 5 })
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS })
      .option('via', { choices: ['kafka', 'http'] as const, default: 'kafka' as const, describe: 'kafka: generators produce to `votes`; http: through a gateway with issued tokens' })
      .option('generators', { type: 'number', default: 1, describe: 'generator processes sharing the schedule (when one cannot offer the rate)' })
      .option('guarantee', { choices: PROCESSING_GUARANTEES, default: 'exactly_once_v2' as ProcessingGuarantee })
      .option('drain-timeout', { type: 'number', default: 120, describe: 'seconds the count and persist paths may take to catch up after the load' })
      .option('json', { type: 'string', describe: 'also write the report JSON to this file' })
      .option('out', { type: 'string', describe: 'directory for report.json, summary.md and the SVG charts (default benchmarks/out/run-<date>)' })
      .option('keep', { type: 'boolean', default: false, describe: "leave the run's topics, tables and Redis keys in place" }) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const int = (name: string, n: number, min: number): number => (check(name, Number.isInteger(n) && n >= min, n, `an integer >= ${min}`), n);
    check('rate', argv.rate > 0 && Number.isFinite(argv.rate), argv.rate, 'a positive number');
    check('dup-ratio', argv.dupRatio >= 0 && argv.dupRatio < 1, argv.dupRatio, 'in [0, 1)');
    const durationS = int('duration', argv.duration, 1);
    const warmupS = int('warmup', argv.warmup, 0);
    const total = Math.round(argv.rate * (durationS + warmupS));
    const ctx = commandContext(argv);
    passDriverToChildren(ctx.config);
    const driver = createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-bench-run' });
    const report = await runBenchRun({
      driver,
      brokers: ctx.config.brokers,
      redis: ctx.config.redis,
      dynamodbEndpoint: ctx.config.dynamodbEndpoint,
      logger: ctx.log,
      command: `votestream ${process.argv.slice(2).join(' ')}`,
      rate: argv.rate,
      durationS,
      warmupS,
      voters: int('voters', argv.voters ?? Math.max(1, total), 1),
      dupRatio: argv.dupRatio,
      elections: int('elections', argv.elections, 1),
      candidates: int('candidates', argv.candidates, 1),
      regions: int('regions', argv.regions, 0),
      partitions: int('partitions', argv.partitions, 1),
      via: argv.via,
      generators: int('generators', argv.generators, 1),
      guarantee: argv.guarantee,
      drainTimeoutMs: int('drain-timeout', argv.drainTimeout, 1) * 1000,
      keep: argv.keep,
    });
    const { files } = writeRunOutput(report, { outDir: argv.out, jsonFile: argv.json });
    process.stdout.write(`${runSummaryMarkdown(report)}\nwritten: ${files.join(', ')}\n`);
    if (!report.verdict.passed) throw new BenchmarkError('BENCHMARK_OUTPUT', `the counts are NOT exact:\n  - ${report.verdict.problems.join('\n  - ')}`);
  },
};
