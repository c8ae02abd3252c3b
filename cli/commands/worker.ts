import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { PROCESSING_GUARANTEES, type ProcessingGuarantee } from '../../runtime/streams-config.js';
import { StreamsApp } from '../../runtime/streams-app.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import type { Registry } from 'prom-client';
import { createMetricsRegistry, startMetricsServer } from '../../runtime/metrics.js';
import { DEFAULT_CLOSE_GRACE_MS } from '../../voting/audit/final-recount-scheduler.js';
import { startFinalRecountService, type FinalRecountService } from '../../voting/audit/final-recount-service.js';
import { deploymentName, loadSigner, SIGNING_KEY_ENV, signingKeyPath } from '../../voting/audit/signing-key.js';
import type { NoteSigner } from '../../voting/audit/signed-note.js';
import { VOTING_ROLES, votingApplicationId, votingTopology, type VotingRole } from '../../voting/topology.js';
import { topicNames } from '../../voting/topics.js';
import type { VotestreamConfig } from '../config.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { EXIT, exitCodeOf } from '../exit-codes.js';
import { superviseWorkers } from '../worker-supervisor.js';

/**
 * What a worker can run: the topology's roles, plus `audit` (the scheduled final recount,
 * voting/audit/final-recount-scheduler.ts), which is no sub-topology and is opt-in.
 */
export const WORKER_ROLES = [...VOTING_ROLES, 'audit'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

export interface WorkerArgs extends GlobalArgs {
  processes: number;
  stateDir: string;
  processingGuarantee: ProcessingGuarantee;
  commitIntervalMs: number;
  maxBatchRecords: number;
  overlapCommits: boolean;
  metricsPort: number;
  instanceId?: string;
  workerIndex?: number;
  roles: WorkerRole[];
  keyFile?: string;
  deployment?: string;
  closeGraceMs: number;
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
      .option('max-batch-records', { type: 'number', default: 20_000, describe: 'records per poll and the most between commits (20,000: at 100k votes/s the commit interval, not this cap, decides; 5,000 committed the count stage twice as often, 12% slower)' })
      .option('overlap-commits', { type: 'boolean', default: true, describe: 'exactly_once_v2: process the next batch while the last one commits (--no-overlap-commits: wait for each commit)' })
      .option('metrics-port', { type: 'number', default: 9464, describe: 'Prometheus /metrics port (worker i uses port + i; 0 = any free port)' })
      .option('instance-id', { type: 'string', describe: 'stable id of this worker slot (transactional ids derive from it)' })
      .option('roles', {
        type: 'string',
        array: true,
        choices: WORKER_ROLES,
        default: [...VOTING_ROLES],
        describe: 'which parts to run: dedup (votes -> votes-accepted), count (-> Redis), persist (-> DynamoDB); each scales apart; audit (opt-in): the final recount of every closed election, published once',
      })
      .option('key-file', { type: 'string', alias: 'signing-key-file', describe: `role audit: the signing key file (default $${SIGNING_KEY_ENV}, else .stack/keys/signing.key)` })
      .option('deployment', { type: 'string', describe: "role audit: the deployment in the checkpoint origin votestream/<deployment>/<E> (default: the key's)" })
      .option('close-grace-ms', {
        type: 'number',
        default: DEFAULT_CLOSE_GRACE_MS,
        describe: "role audit: how long after closesAt a vote the gateway accepted may still reach votes (at least the gateway's ack timeout, 10 s by default, plus clock skew)",
      })
      .option('worker-index', { type: 'number', hidden: true }) as unknown as Argv<WorkerArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (!Number.isInteger(argv.processes) || argv.processes < 1) throw new ConfigError(`--processes must be a positive integer, got ${argv.processes}`);
    if (!Number.isInteger(argv.closeGraceMs) || argv.closeGraceMs < 0) throw new ConfigError(`--close-grace-ms must be a non-negative integer, got ${argv.closeGraceMs}`);
    // The key is checked before anything starts: a worker without it would fail only at the first close.
    if (argv.roles.includes('audit')) loadAuditSigner(argv);
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

/** The signer and deployment of role `audit`, loaded exactly as `audit recount --publish` loads them. */
function loadAuditSigner(argv: WorkerArgs): { signer: NoteSigner; deployment: string } {
  const signer = loadSigner(signingKeyPath(argv.keyFile));
  return { signer, deployment: deploymentName(argv.deployment, { signer }) };
}

/** Runs the voting StreamsApp (and role audit) in this process until a signal or a fatal error (exit 1). */
export async function runWorker(argv: WorkerArgs, config: VotestreamConfig): Promise<void> {
  const { brokers, driver, topicPrefix: prefix, logLevel: level } = config;
  const logger = createLogger({
    level,
    name: 'votestream-worker',
    bindings: argv.workerIndex !== undefined ? { worker: argv.workerIndex } : {},
  });
  const registry = createMetricsRegistry({ app: votingApplicationId(prefix), ...(argv.workerIndex !== undefined ? { worker: String(argv.workerIndex) } : {}) });
  const roles = argv.roles.filter((r): r is VotingRole => r !== 'audit');
  let audit: FinalRecountService | undefined;
  if (argv.roles.includes('audit')) {
    audit = startFinalRecountService({
      brokers,
      driver,
      redis: config.redis,
      dynamodbEndpoint: config.dynamodbEndpoint,
      prefix,
      ...loadAuditSigner(argv),
      closeGraceMs: argv.closeGraceMs,
      logger: logger.child({ role: 'audit' }),
      registry,
    });
  }
  if (roles.length === 0) return runAuditOnly(argv, registry, logger, audit!);
  const app = new StreamsApp(
    votingTopology({ prefix, roles, redis: config.redis, dynamodbEndpoint: config.dynamodbEndpoint, registry, logger: logger.child({ component: 'sink' }) }),
    {
      applicationId: votingApplicationId(prefix),
      brokers,
      driver,
      processingGuarantee: argv.processingGuarantee,
      commitIntervalMs: argv.commitIntervalMs,
      maxBatchRecords: argv.maxBatchRecords,
      overlapCommits: argv.overlapCommits,
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
    void Promise.all([app.close(), audit?.close()]).then(() => process.exit(0));
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

/** A worker with role audit alone: no topology to run, so it serves its metrics itself. */
async function runAuditOnly(argv: WorkerArgs, registry: Registry, logger: Logger, audit: FinalRecountService): Promise<void> {
  const metrics = await startMetricsServer(registry, argv.metricsPort, '0.0.0.0');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(EXIT.INTERRUPTED);
    logger.info({ signal }, 'closing');
    void Promise.all([audit.close(), metrics.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  logger.info({ metrics: metrics.url }, 'worker started');
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
