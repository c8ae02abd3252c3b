import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackUp } from '../../infra/stack.js';
import { provisionVoting } from '../../voting/provision.js';
import { VOTING_ROLES } from '../../voting/topology.js';
import { runWorker } from './worker.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface DevArgs extends GlobalArgs {
  dataDir?: string;
}

/**
 * `npm start`: everything that exists so far, on one machine. It grows as the system does; today
 * it brings up the stack, provisions topics and tables, and runs a worker with every role.
 */
export const devCommand: CommandModule<GlobalArgs, DevArgs> = {
  command: 'dev',
  describe: 'run the whole system locally (what exists so far): stack, topics and tables, a worker',
  builder: (y: Argv<GlobalArgs>) => y.option('data-dir', { type: 'string', default: '.stack', describe: 'local stack data directory' }) as Argv<DevArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const up = await stackUp(stackConfig({ dataDir: argv.dataDir }), { external: ctx.external, log: (m) => ctx.log.info(m) });
    for (const [name, r] of Object.entries(up)) process.stdout.write(`${name.padEnd(9)} ${r.address} ${r.action}\n`);
    const dynamodb = dynamoClient(ctx.config.dynamodbEndpoint);
    try {
      const p = await provisionVoting({ brokers: ctx.config.brokers, dynamodb, prefix: ctx.config.topicPrefix });
      process.stdout.write(`topics: ${p.topics.created.length} created, ${p.topics.found.length} found; tables: ${p.tables.created.length} created, ${p.tables.found.length} found\n`);
    } finally {
      dynamodb.destroy();
    }
    process.stdout.write(
      [
        '',
        'Stack up and provisioned; starting a worker (dedup -> votes-accepted, count -> Redis, persist -> DynamoDB).',
        'Not built yet: gateway, live feed, simulated voters, live page. Ctrl-C stops the worker;',
        '`npx votestream stack down` stops the stack.',
        '',
      ].join('\n'),
    );
    await runWorker(
      {
        ...argv,
        processes: 1,
        stateDir: join(argv.dataDir ?? '.stack', 'state'),
        processingGuarantee: 'exactly_once_v2',
        commitIntervalMs: 100,
        maxBatchRecords: 5000,
        metricsPort: 9464,
        roles: [...VOTING_ROLES],
      },
      ctx.config,
    );
  },
};
