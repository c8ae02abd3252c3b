/**
 * The @kafkats/flow peer of our dedup stage, as a standalone process for side-by-side benchmarks:
 *   node dist/benchmarks/peers/kafkats-flow/dedup-app.js [--brokers h:p] [--prefix p] [--application-id id]
 *     [--instance-id i] [--commit-interval-ms n]
 * (or KAFKA_BROKERS, VOTESTREAM_TOPIC_PREFIX, KAFKATS_FLOW_APPLICATION_ID, KAFKATS_FLOW_INSTANCE_ID). Flow runs in its
 * exactly_once mode. Logs JSON lines to stderr ("running" once it has joined and restored); exits 0
 * on SIGTERM/SIGINT after flow's close (which commits the open transaction), 1 when flow fails.
 */
import { ConfigError } from '../../../runtime/errors.js';
import { parseArgs } from 'node:util';
import type { Logger as KafkatsLogger } from '@kafkats/client';
import { flow } from '@kafkats/flow';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { createLogger, type Logger } from '../../../runtime/logger.js';
import { topicNames } from '../../../voting/topics.js';
import { buildDedupTopology } from './dedup-topology.js';
import { ElectionsFollower } from './elections-follower.js';
import { kafkatsFlowApplicationId } from './names.js';
import { RecordContextClient } from './record-context.js';

interface PeerConfig {
  readonly brokers: string;
  readonly prefix: string;
  readonly applicationId: string;
  readonly instanceId: string;
  readonly commitIntervalMs: number;
}

function readConfig(): PeerConfig {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      prefix: { type: 'string' },
      'application-id': { type: 'string' },
      'instance-id': { type: 'string' },
      'commit-interval-ms': { type: 'string' },
    },
  });
  const prefix = values.prefix ?? process.env.VOTESTREAM_TOPIC_PREFIX ?? '';
  const commitIntervalMs = Number(values['commit-interval-ms'] ?? process.env.KAFKATS_FLOW_COMMIT_INTERVAL_MS ?? 100);
  if (!Number.isInteger(commitIntervalMs) || commitIntervalMs < 1) throw new ConfigError(`commit interval must be a positive integer, got ${commitIntervalMs}`);
  return {
    brokers: values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    prefix,
    applicationId: values['application-id'] ?? process.env.KAFKATS_FLOW_APPLICATION_ID ?? kafkatsFlowApplicationId(prefix),
    instanceId: values['instance-id'] ?? process.env.KAFKATS_FLOW_INSTANCE_ID ?? 'i0',
    commitIntervalMs,
  };
}

/** Flow's and the client's log calls, as our JSON lines (their info is chatty: kept at debug). */
function kafkatsLogger(logger: Logger): KafkatsLogger {
  return {
    error: (msg, ctx) => logger.error({ lib: 'kafkats', ...ctx }, msg),
    warn: (msg, ctx) => logger.warn({ lib: 'kafkats', ...ctx }, msg),
    info: (msg, ctx) => logger.debug({ lib: 'kafkats', ...ctx }, msg),
    debug: (msg, ctx) => logger.trace({ lib: 'kafkats', ...ctx }, msg),
    child: (ctx) => kafkatsLogger(logger.child(ctx)),
  };
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ name: 'kafkats-flow-peer' });
  const topics = topicNames(config.prefix);
  const driver = new PlatformaticKafkaDriver({ brokers: config.brokers, clientId: 'kafkats-flow-peer' });
  const elections = await ElectionsFollower.start(driver, topics.elections, logger);
  logger.info({ topic: topics.elections, elections: elections.elections }, 'elections loaded');

  const client = new RecordContextClient({ brokers: config.brokers.split(',').map((b) => b.trim()), clientId: config.applicationId, logger: kafkatsLogger(logger) });
  // Flow's default transactional id holds a random id per process, so a restarted peer would not fence
  // its crashed predecessor: that one's open transaction would hold back read_committed readers (and
  // the restart's stable-offset fetch) until the broker times it out (60 s). A stable id per instance
  // fences and aborts it at once, as our `<applicationId>-<source>-<instanceId>` does.
  const transactionalId = `${config.applicationId}-${config.instanceId}`;
  const app = flow({
    applicationId: config.applicationId,
    client,
    processingGuarantee: 'exactly_once',
    commitIntervalMs: config.commitIntervalMs,
    producer: { transactionalId },
    // Static membership for the same reason: a restart within the session timeout of a crash would
    // otherwise wait for the dead member's eviction (30 s), past flow's fixed 10 s start timeout.
    consumer: { groupInstanceId: transactionalId },
  });
  const stats = buildDedupTopology(app, {
    prefix: config.prefix,
    elections,
    onJudgedAhead: (vote, completeUpTo, count) =>
      logger.warn({ voteId: vote.voteId, ts: vote.ts, completeUpTo, count }, 'judged a vote before the elections table was known complete up to its ts (flow cannot hold a record)'),
  });

  let stopping = false;
  const shutdown = async (code: number, reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason, ...stats }, 'stopping');
    clearInterval(watch);
    try {
      await app.close();
      await elections.close();
      await client.disconnect().catch(() => undefined);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'close failed');
      code = 1;
    }
    logger.info({ code, ...stats }, 'stopped');
    process.exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(0, signal));

  // Flow reports a failed consumer or transaction only through its state: a record error or an
  // abort ends its consume loop, so the process exits and a restart resumes from the committed offsets.
  let lastLog = Date.now();
  const watch = setInterval(() => {
    if (app.state() === 'ERROR') {
      // getError() exists on flow's app object but is not part of its FlowApp type.
      const error = (app as { getError?: () => unknown }).getError?.();
      logger.error({ state: app.state(), err: error instanceof Error ? error.stack : String(error), ...stats }, 'flow failed');
      void shutdown(1, 'flow error');
      return;
    }
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      logger.info({ state: app.state(), ...stats }, 'progress');
    }
  }, 250);

  await app.start();
  logger.info(
    { applicationId: config.applicationId, groupId: config.applicationId, transactionalId, prefix: config.prefix, guarantee: 'exactly_once', commitIntervalMs: config.commitIntervalMs, elections: elections.elections },
    'running',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 60, name: 'kafkats-flow-peer', pid: process.pid, msg: 'failed to start', err: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
