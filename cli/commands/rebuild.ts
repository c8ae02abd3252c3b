import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { rebuildStore, type PartitionRebuild } from '../../runtime/rebuild-store.js';
import {
  assertGroupIdle,
  CountPathRunningError,
  describeGroupActivity,
  resetCountOffsets,
  votingGroupId,
  type ResetCountOffsetsResult,
} from '../../voting/count-offsets-reset.js';
import { listElectionIds } from '../../voting/election-ids.js';
import { createProgress } from '../../runtime/progress.js';
import { closeCommandRedis, commandRedis, requireServices, requireTable, votesAcceptedPartitions } from '../../voting/audit/verify-sources.js';
import { rebuildDynamo } from '../../voting/rebuild-dynamodb.js';
import { rebuildRedis, type RebuildRedisResult } from '../../voting/rebuild-redis.js';
import { votingApplicationId, votingTopology } from '../../voting/topology.js';
import { tableNames, topicNames, VOTERS_STORE } from '../../voting/topics.js';
import { ID_PATTERN, MAX_ELECTION_ID_LENGTH } from '../../voting/vote.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { EXIT, EXIT_CODES } from '../exit-codes.js';

interface RebuildStoreArgs extends GlobalArgs {
  store: string;
  partition?: number[];
  swap: boolean;
  stateDir: string;
  json: boolean;
}

function summary(r: PartitionRebuild): string {
  const head = `partition ${String(r.partition).padStart(3)}: live ${r.live.entries} entries ${r.live.sha256.slice(0, 12)}, rebuilt ${r.rebuilt.entries} entries ${r.rebuilt.sha256.slice(0, 12)} (${r.rebuilt.records} changelog records in ${r.rebuilt.ms} ms)`;
  if (r.identical) return `${head}: identical`;
  const lines = r.differences.map((d) => `    ${d.kind.padEnd(14)} ${d.key}${d.kind === 'value-differs' ? `: live ${JSON.stringify(d.a)} rebuilt ${JSON.stringify(d.b)}` : ''}`);
  const tail = r.truncated ? ['    ... more differences not shown'] : [];
  const action = r.swapped ? `  swapped in; the old store is at ${r.kept ?? '(none)'}` : `  NOT swapped (use --swap); rebuilt copy kept at ${r.kept}`;
  return [`${head}: DIFFERENT`, ...lines, ...tail, action].join('\n');
}

const storeCommand: CommandModule<GlobalArgs, RebuildStoreArgs> = {
  command: 'store',
  describe: 'rebuild a state store from its changelog, compare it with the live one, swap only when asked',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('store', { type: 'string', default: VOTERS_STORE, describe: 'store name' })
      .option('partition', { type: 'number', array: true, describe: 'only these partitions (default all)' })
      .option('swap', { type: 'boolean', default: false, describe: 'replace a differing live store with the rebuilt one' })
      .option('state-dir', { type: 'string', default: '.state', describe: "the workers' state directory" })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<RebuildStoreArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const logger = createLogger({ level: ctx.config.logLevel });
    const reports = await rebuildStore({
      driver: createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-rebuild' }),
      topology: votingTopology({ prefix: ctx.config.topicPrefix, roles: ['dedup'] }),
      applicationId: votingApplicationId(ctx.config.topicPrefix),
      stateDir: argv.stateDir,
      store: argv.store,
      partitions: argv.partition,
      swap: argv.swap,
      logger,
    });
    const differing = reports.filter((r) => !r.identical);
    if (argv.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
    else {
      process.stdout.write(`${reports.map(summary).join('\n')}\n`);
      process.stdout.write(`${reports.length} partition(s) checked, ${differing.length} different${differing.some((r) => r.swapped) ? ', swapped' : ''}\n`);
    }
    // Differences left in place are worth a non-zero exit for scripts and auditors.
    if (differing.some((r) => !r.swapped)) process.exitCode = EXIT.STORE_DIFFERENCES;
  },
};

interface RebuildRedisArgs extends GlobalArgs {
  election?: string;
  all: boolean;
  partitions?: number;
  json: boolean;
}

/**
 * Exit code of `rebuild redis` when the count path is running: nothing was rebuilt (or, if a count
 * worker joined during the rebuild, what was rebuilt may have been overwritten; run it again).
 */
export const COUNT_PATH_RUNNING_EXIT = EXIT_CODES.COUNT_PATH_RUNNING;

function describeRebuild(electionId: string, r: RebuildRedisResult, reset: ResetCountOffsetsResult): string {
  const fields = (m: Record<string, number>) =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '(none)';
  const moved = reset.steps.filter((s) => s.moves);
  return [
    `election ${electionId}: total ${r.total}`,
    `  counts:  ${fields(r.counts)}`,
    `  regions: ${fields(r.regions)}`,
    `  fences:  ${Object.keys(r.offsets).length} partition(s) ${fields(r.offsets)}`,
    moved.length === 0
      ? `  count group ${reset.countGroup}: offsets unchanged (not ahead of ${reset.persistGroup})`
      : `  count group ${reset.countGroup}: rewound ${moved.length} partition(s) to re-read what DynamoDB lacked: ${moved.map((s) => `${s.partition}:${s.from}->${s.to}`).join(' ')}`,
    '',
  ].join('\n');
}

/** `--election E` (validated) or `--all` (undefined), exactly one of them. */
function electionChoice(argv: { readonly election?: string; readonly all: boolean }): string | undefined {
  if ((argv.election === undefined) === !argv.all) throw new ConfigError('give exactly one of --election E and --all');
  const election = argv.election;
  if (election !== undefined && (election.length > MAX_ELECTION_ID_LENGTH || !ID_PATTERN.test(election))) {
    throw new ConfigError(`--election must be an election id (letters and digits first, then letters, digits and . _ @ + -; at most ${MAX_ELECTION_ID_LENGTH}), got ${JSON.stringify(election)}`);
  }
  return election;
}

const redisCommand: CommandModule<GlobalArgs, RebuildRedisArgs> = {
  command: 'redis',
  describe: "rebuild an election's (or --all elections') Redis counts, regions and fences from the DynamoDB vote log (stop the count path first)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('election', { type: 'string', describe: 'the election id' })
      .option('all', { type: 'boolean', default: false, describe: 'every election on the elections topic (after a FLUSHALL, rebuild them all: the count group is rewound for all of them)' })
      .option('partitions', { type: 'number', describe: 'chains to read, 0..n-1 (default: the partitions of votes-accepted)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .epilog(
        'Refuses (exit 6) while the count consumer group has members. Then rewinds the count group, per partition, to ' +
          'min(its committed offset, the persist group\'s), because Redis may have been ahead of DynamoDB: the count path ' +
          're-reads that part and the rebuilt fences skip what DynamoDB already covers.',
      ) as unknown as Argv<RebuildRedisArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const election = electionChoice(argv) ?? '';
    if (argv.partitions !== undefined && (!Number.isInteger(argv.partitions) || argv.partitions < 1 || argv.partitions > 1000)) {
      throw new ConfigError(`--partitions must be an integer in 1..1000, got ${argv.partitions}`);
    }
    const { brokers, redis: redisUrl, dynamodbEndpoint, topicPrefix: prefix } = ctx.config;
    // Every service the rebuild touches must answer first: a half-done rebuild helps nobody.
    await requireServices(ctx.config);
    const countGroup = votingGroupId(prefix, 'count');
    const driver = createKafkaDriver(ctx.config.driver, { brokers, clientId: 'votestream-rebuild' });
    const dynamodb = dynamoClient(dynamodbEndpoint);
    const redis = commandRedis(redisUrl, 'votestream-rebuild', ctx.log);
    try {
      const table = tableNames(prefix).votes;
      await requireTable(dynamodb, table);
      const topic = topicNames(prefix).votesAccepted;
      const topicPartitions = await votesAcceptedPartitions(driver, prefix, 'votestream-rebuild-admin');
      const partitions = argv.partitions ?? topicPartitions;
      if (partitions !== topicPartitions) {
        ctx.log.warn({ partitions, topic, topicPartitions }, 'rebuild redis: --partitions differs from the topic; chains outside 0..partitions-1 are not counted');
      }
      // Offsets first: if the rebuild then fails, a rewound count group only replays, and the
      // fences still in Redis skip it; the other order could leave Redis rebuilt but never caught up.
      const reset = await resetCountOffsets({ brokers, driver, prefix });
      const elections = argv.all ? await listElectionIds(driver, prefix) : [election];
      const results: [string, RebuildRedisResult][] = [];
      for (const electionId of elections) results.push([electionId, await rebuildRedis({ dynamodb, redis, tableName: table, electionId, partitions, prefix })]);
      // A count worker that joined while DynamoDB was read may have written under the MULTI.
      try {
        assertGroupIdle(await describeGroupActivity(brokers, countGroup));
      } catch (err) {
        if (!(err instanceof CountPathRunningError)) throw err;
        throw new CountPathRunningError(`a count worker joined during the rebuild, so Redis may mix old and rebuilt state; run the rebuild again. ${err.message}`);
      }
      if (argv.json) {
        const steps = reset.steps.map((s) => ({ partition: s.partition, from: s.from?.toString() ?? null, persist: s.persist?.toString() ?? null, to: s.to?.toString() ?? null, moves: s.moves }));
        const rows = results.map(([electionId, { total, counts, regions, offsets: fences }]) => ({ electionId, total, counts, regions, fences, countGroup: reset.countGroup, reset: steps }));
        process.stdout.write(`${JSON.stringify(argv.all ? rows : rows[0])}\n`);
      } else {
        for (const [electionId, result] of results) process.stdout.write(describeRebuild(electionId, result, reset));
        if (argv.all) process.stdout.write(`${results.length} election(s) rebuilt\n`);
      }
    } catch (err) {
      if (!(err instanceof CountPathRunningError)) throw err;
      process.stderr.write(`votestream: ${err.message}\n`);
      process.exitCode = COUNT_PATH_RUNNING_EXIT;
    } finally {
      dynamodb.destroy();
      await closeCommandRedis(redis);
    }
  },
};

interface RebuildDynamoArgs extends GlobalArgs {
  election?: string;
  all: boolean;
  json: boolean;
}

const dynamodbCommand: CommandModule<GlobalArgs, RebuildDynamoArgs> = {
  command: 'dynamodb',
  describe: "rebuild an election's (or --all elections') DynamoDB hash chains from votes-accepted (a lost table is recreated)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('election', { type: 'string', describe: 'the election id' })
      .option('all', { type: 'boolean', default: false, describe: 'every election: every record of votes-accepted' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .epilog(
        'Reads every partition of votes-accepted from its beginning (read_committed) and writes it through the persist ' +
          "path's own sink: the chain heads fence what the table still holds, so the rebuilt chains have the same hashes " +
          'and running it again writes nothing. Safe while the persist path runs.',
      ) as unknown as Argv<RebuildDynamoArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const election = electionChoice(argv);
    const { brokers, dynamodbEndpoint, topicPrefix: prefix } = ctx.config;
    await requireServices({ brokers, dynamodbEndpoint });
    const driver = createKafkaDriver(ctx.config.driver, { brokers, clientId: 'votestream-rebuild' });
    const dynamodb = dynamoClient(dynamodbEndpoint);
    const progress = createProgress(election === undefined ? 'rebuild dynamodb' : `rebuild dynamodb ${election}`, 0);
    try {
      const topic = topicNames(prefix).votesAccepted;
      await votesAcceptedPartitions(driver, prefix, 'votestream-rebuild-admin');
      const result = await rebuildDynamo({
        driver,
        dynamodb,
        tableName: tableNames(prefix).votes,
        prefix,
        ...(election === undefined ? {} : { electionId: election }),
        logger: ctx.log,
        onProgress: (read, total) => {
          progress.setTotal(total);
          progress.update(read);
        },
      });
      progress.stop();
      const sum = (k: 'read' | 'applied' | 'fenced' | 'undecodable') => result.partitions.reduce((n, r) => n + r[k], 0);
      const summary = { election: election ?? null, table: tableNames(prefix).votes, tableCreated: result.tableCreated, read: sum('read'), applied: sum('applied'), fenced: sum('fenced'), undecodable: sum('undecodable'), partitions: result.partitions };
      ctx.log.info({ ...summary, partitions: result.partitions.length }, 'rebuild dynamodb: done');
      if (argv.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        process.stdout.write(
          `${election === undefined ? 'every election' : `election ${election}`}: read ${summary.read} record(s) of ${topic}, ` +
            `wrote ${summary.applied} missing vote(s), ${summary.fenced} already in ${summary.table}` +
            `${summary.tableCreated ? ' (the table was missing and was created)' : ''}${summary.undecodable > 0 ? `, ${summary.undecodable} undecodable skipped` : ''}\n`,
        );
      }
    } finally {
      progress.stop();
      dynamodb.destroy();
    }
  },
};

export const rebuildCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'rebuild <what>',
  describe: "rebuild derived state: a state store from its changelog, an election's Redis counts from DynamoDB, its DynamoDB chains from Kafka",
  builder: (y: Argv<GlobalArgs>) => y.command(storeCommand).command(redisCommand).command(dynamodbCommand).demandCommand(1, 'rebuild what? store | redis | dynamodb'),
  handler: () => undefined,
};
