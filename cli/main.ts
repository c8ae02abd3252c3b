#!/usr/bin/env node
import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VotestreamError } from '../runtime/errors.js';
import { KAFKA_DRIVERS } from '../runtime/kafka/create-driver.js';
import { LOG_LEVELS } from './config.js';
import type { GlobalArgs } from './context.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { adminCommand } from './commands/admin.js';
import { auditCommand } from './commands/audit.js';
import { benchCommand } from './commands/bench.js';
import { chaosCommand } from './commands/chaos.js';
import { describeCommand } from './commands/describe.js';
import { devCommand } from './commands/dev.js';
import { feedCommand } from './commands/feed.js';
import { gatewayCommand } from './commands/gateway.js';
import { initCommand } from './commands/init.js';
import { rebuildCommand } from './commands/rebuild.js';
import { simulateCommand } from './commands/simulate.js';
import { stackCommand } from './commands/stack.js';
import { tokenCommand } from './commands/token.js';
import { workerCommand } from './commands/worker.js';


const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

function fail(err: unknown): never {
  if (err instanceof VotestreamError) {
    process.stderr.write(`votestream: ${err.message}\n`);
    process.exit(exitCodeOf(err));
  }
  process.stderr.write(`votestream: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(EXIT.FAILURE);
}

await yargs(hideBin(process.argv))
  .scriptName('votestream')
  .usage('$0 <command> [options]\n\nA stream processor with a Kafka Streams-style DSL, and the real-time voting system built on it.')
  .option('brokers', { type: 'string', describe: 'Kafka bootstrap brokers host:port[,...] (env KAFKA_BROKERS)', global: true })
  .option('driver', { choices: KAFKA_DRIVERS, describe: 'Kafka client the commands run on (env KAFKA_DRIVER)', global: true })
  .option('redis', { type: 'string', describe: 'Redis URL (env REDIS_URL)', global: true })
  .option('dynamodb-endpoint', { type: 'string', describe: 'DynamoDB endpoint URL (env DYNAMODB_ENDPOINT)', global: true })
  .option('log-level', { choices: LOG_LEVELS, describe: 'JSON log level on stderr (env LOG_LEVEL)', global: true })
  .option('topic-prefix', { type: 'string', describe: 'prefix for every topic and table name (env VOTESTREAM_TOPIC_PREFIX)', global: true })
  .option('config', { type: 'string', describe: 'JSON config file (flags > env > file > defaults)', global: true })
  .command(stackCommand)
  .command(initCommand)
  .command(workerCommand)
  .command(gatewayCommand)
  .command(feedCommand)
  .command(adminCommand)
  .command(tokenCommand)
  .command(simulateCommand)
  .command(describeCommand)
  .command(rebuildCommand)
  .command(auditCommand)
  .command(devCommand)
  .command(benchCommand)
  .command(chaosCommand)
  .demandCommand(1, 'name a command; see --help')
  .strict()
  .recommendCommands()
  .version(version)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(120, process.stdout.columns ?? 120))
  .fail((msg, err, y) => {
    if (err !== undefined && err !== null) fail(err);
    process.stderr.write(`${y.help()}\n\nvotestream: ${msg}\n`);
    process.exit(EXIT.USAGE);
  })
  .parseAsync()
  .catch(fail);

export type { GlobalArgs };
