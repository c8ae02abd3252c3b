import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { PROCESSING_GUARANTEES, type ProcessingGuarantee } from '../../runtime/streams-config.js';
import { StreamsApp } from '../../runtime/streams-app.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { VOTING_ROLES, votingApplicationId, votingTopology, type VotingRole } from '../../voting/topology.js';
import { topicNames } from '../../voting/topics.js';
import type { VotestreamConfig } from '../config.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { EXIT, exitCodeOf } from '../exit-codes.js';
import { superviseWorkers } from '../worker-supervisor.js';

export interface WorkerArgs extends GlobalArgs {
  processes: number;
  stateDir: string;
  processingGuarantee: ProcessingGuarantee;
  commitIntervalMs: number;
  maxBatchRecords: number;
  metricsPort: number;
  instanceId?: string;
  workerIndex?: number;
  roles: VotingRole[];
}

export const workerCommand: CommandModule<GlobalArgs, WorkerArgs> = {
  command: 'worker',
  describe: 'run the voting topology (dedup, and the sinks as they exist) on this machine',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('processes', { type: 'number', default: 1, describe: 'worker processes (one group member each); crashed ones restart with backoff' })
      .option('state-dir', { type: 'string', default: '.state', describe: 'where LevelDB state stores live' })
      .option('processing-guarantee', { choices: PROCESSING_GUARANTEES, default: 'exactly_once_v2' as ProcessingGuarantee })
      .option('commit-interval-ms', { type: 'number', default: 100 })
      .option('max-batch-records', { type: 'number', default: 5000, describe: 'records per poll and the most between commits' })
      .option('metrics-port', { type: 'number', default: 9464, describe: 'Prometheus /metrics port (worker i uses port + i; 0 = any free port)' })
      .option('instance-id', { type: 'string', describe: 'stable id of this worker slot (transactional ids derive from it)' })
      .option('roles', {
        type: 'string',
        array: true,
        choices: VOTING_ROLES,
        default: [...VOTING_ROLES],
        describe: 'which parts to run: dedup (votes -> votes-accepted), count (-> Redis), persist (-> DynamoDB); each scales apart',
      })
      .option('worker-index', { type: 'number', hidden: true }) as unknown as Argv<WorkerArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (!Number.isInteger(argv.processes) || argv.processes < 1) throw new ConfigError(`--processes must be a positive integer, got ${argv.processes}`);
    if (argv.processes > 1) {
      // The supervisor sets these per child; everything else the operator gave is passed on as is.
      const passOn = withoutOptions(process.argv.slice(2), ['processes', 'worker-index', 'instance-id', 'metrics-port']);
      process.exitCode = await superviseWorkers({
        processes: argv.processes,
        logger: ctx.log.child({ role: 'supervisor' }),
        argsFor: (i) => [
          ...passOn,
          '--processes',
          '1',
          '--worker-index',
          String(i),
          '--instance-id',
          `${argv.instanceId ?? hostname()}-w${i}`,
          '--metrics-port',
          String(argv.metricsPort === 0 ? 0 : argv.metricsPort + i),
        ],
      });
      return;
    }
    await runWorker(argv, ctx.config);
  },
};

/** Runs the voting StreamsApp in this process until a signal or a fatal error (exit 1). */
export async function runWorker(argv: WorkerArgs, config: VotestreamConfig): Promise<void> {
  const { brokers, topicPrefix: prefix, logLevel: level } = config;
  const logger = createLogger({
    level,
    name: 'votestream-worker',
    bindings: argv.workerIndex !== undefined ? { worker: argv.workerIndex } : {},
  });
  const registry = createMetricsRegistry({ app: votingApplicationId(prefix), ...(argv.workerIndex !== undefined ? { worker: String(argv.workerIndex) } : {}) });
  const app = new StreamsApp(
    votingTopology({ prefix, roles: argv.roles, redis: config.redis, dynamodbEndpoint: config.dynamodbEndpoint, registry, logger: logger.child({ component: 'sink' }) }),
    {
      applicationId: votingApplicationId(prefix),
      brokers,
      processingGuarantee: argv.processingGuarantee,
      commitIntervalMs: argv.commitIntervalMs,
      maxBatchRecords: argv.maxBatchRecords,
      stateDir: argv.stateDir,
      metricsPort: argv.metricsPort,
      ...(argv.instanceId !== undefined ? { instanceId: argv.instanceId } : {}),
      // A worker never dies on one bad record: what throws goes to votes-dlq with its reason.
      processingExceptionHandler: 'dead-letter',
      processingDeadLetterTopic: topicNames(prefix).votesDlq,
    },
    { logger, registry },
  );
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(EXIT.INTERRUPTED);
    }
    logger.info({ signal }, 'finishing the batch, committing and closing (signal again to exit at once)');
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await app.start();
  logger.info({ metrics: app.metricsUrl }, 'worker started');
  try {
    await app.failed();
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'worker failed');
    process.exit(exitCodeOf(err));
  }
}

/** `args` without the given long options, in both `--name value` and `--name=value` forms. */
export function withoutOptions(args: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = names.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (name === undefined) out.push(arg);
    else if (arg === `--${name}`) i++;
  }
  return out;
}
