import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackUp } from '../../infra/stack.js';
import { Redis } from 'ioredis';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import { provisionVoting } from '../../voting/provision.js';
import { countsKey, TOTAL_FIELD } from '../../voting/redis-keys.js';
import { simulateVoters } from '../../voting/simulator.js';
import { VOTING_ROLES } from '../../voting/topology.js';
import { runWorker } from './worker.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface DevArgs extends GlobalArgs {
  dataDir?: string;
  simulateRate: number;
}

/**
 * `npm start`: everything that exists so far, on one machine. It grows as the system does; today
 * it brings up the stack, provisions topics and tables, and runs a worker with every role.
 */
export const devCommand: CommandModule<GlobalArgs, DevArgs> = {
  command: 'dev',
  describe: 'run the whole system locally (what exists so far): stack, topics and tables, a worker',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('data-dir', { type: 'string', default: '.stack', describe: 'local stack data directory' })
      .option('simulate-rate', { type: 'number', default: 100, describe: 'simulated votes per second (0: none)' }) as unknown as Argv<DevArgs>,
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
        'Stack up and provisioned. Running: a worker (dedup -> votes-accepted, count -> Redis, persist -> DynamoDB)',
        `and simulated voters (${argv.simulateRate} votes/s into \`votes\`, elections e1..e3); live totals from Redis below.`,
        'Not built yet: gateway, live feed, live page. Ctrl-C stops; `npx votestream stack down` stops the stack.',
        '',
      ].join('\n'),
    );
    if (argv.simulateRate > 0) {
      const driver = new PlatformaticKafkaDriver({ brokers: ctx.config.brokers, clientId: 'votestream-dev' });
      simulateVoters({ driver, prefix: ctx.config.topicPrefix, rate: argv.simulateRate, votes: 0, duplicateRatio: 0.1, logger: ctx.log }).catch((err: unknown) =>
        ctx.log.error({ err: (err as Error).message }, 'simulated voters stopped'),
      );
      printTotals(ctx.config.redis, ['e1', 'e2', 'e3'], ctx.config.topicPrefix);
    }
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

/** Every 5 s, one line of live totals per election from the Redis read model. */
function printTotals(url: string, elections: readonly string[], prefix: string): void {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const timer = setInterval(() => {
    void Promise.all(elections.map((e) => redis.hgetall(countsKey(e, prefix))))
      .then((all) => {
        const parts = all.map((counts, i) => {
          const candidates = Object.entries(counts)
            .filter(([k]) => k !== TOTAL_FIELD)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          return `${elections[i]}: ${counts[TOTAL_FIELD] ?? 0} (${candidates || 'no votes yet'})`;
        });
        process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${parts.join('  |  ')}\n`);
      })
      .catch(() => undefined);
  }, 5000);
  timer.unref();
}
