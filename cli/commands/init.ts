import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { ConfigError } from '../../runtime/errors.js';
import { provisionVoting } from '../../voting/provision.js';
import { DEFAULT_PARTITIONS } from '../../voting/topics.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface InitArgs extends GlobalArgs {
  partitions: number;
  json: boolean;
}

export const initCommand: CommandModule<GlobalArgs, InitArgs> = {
  command: 'init',
  describe: 'create the topics and DynamoDB tables of the voting system (idempotent)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('partitions', { type: 'number', default: DEFAULT_PARTITIONS, describe: 'partitions of votes, votes-accepted, votes-rejected, votes-dlq and the changelog' })
      .option('json', { type: 'boolean', default: false, describe: 'print what was created and found as JSON' }) as Argv<InitArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (!Number.isInteger(argv.partitions) || argv.partitions < 1) throw new ConfigError(`--partitions must be a positive integer, got ${argv.partitions}`);
    const dynamodb = dynamoClient(ctx.config.dynamodbEndpoint);
    try {
      const result = await provisionVoting({ brokers: ctx.config.brokers, dynamodb, prefix: ctx.config.topicPrefix, partitions: argv.partitions });
      if (argv.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : '(none)');
      process.stdout.write(
        [
          `topics created: ${list(result.topics.created)}`,
          `topics found:   ${list(result.topics.found)}`,
          ...(result.topics.migrated.length > 0 ? [`topics migrated (election versions are kept forever): ${result.topics.migrated.join(', ')}`] : []),
          `tables created: ${list(result.tables.created)}`,
          `tables found:   ${list(result.tables.found)}`,
          '',
        ].join('\n'),
      );
    } finally {
      dynamodb.destroy();
    }
  },
};
