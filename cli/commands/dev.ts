import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackUp } from '../../infra/stack.js';
import { Redis } from 'ioredis';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import { provisionVoting } from '../../voting/provision.js';
import { countsKey, TOTAL_FIELD } from '../../voting/redis-keys.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startAdmin } from '../../voting/admin/admin-service.js';
import { ElectionNotFoundError, type ElectionAdmin } from '../../voting/admin/election-admin.js';
import type { Election } from '../../voting/election.js';
import { startFeed } from '../../voting/feed/feed.js';
import { startGateway } from '../../voting/gateway/gateway.js';
import { createTokenKeys, issueToken } from '../../voting/gateway/token-issuer.js';
import { httpVoteSender } from '../../voting/http-voters.js';
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
 * it brings up the stack, provisions topics and tables, runs the elections admin and the gateway,
 * opens a demo election through the admin, drives simulated voters through the gateway, and runs a
 * worker with every role.
 */
export const devCommand: CommandModule<GlobalArgs, DevArgs> = {
  command: 'dev',
  describe: 'run the whole system locally (what exists so far): stack, topics and tables, admin, gateway, a worker, simulated voters',
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
    const dataDir = argv.dataDir ?? '.stack';
    const secrets = await devSecrets(join(dataDir, 'secrets'));
    const driver = new PlatformaticKafkaDriver({ brokers: ctx.config.brokers, clientId: 'votestream-dev' });
    const prefix = ctx.config.topicPrefix;
    const admin = await startAdmin({
      driver,
      dynamodb: dynamoClient(ctx.config.dynamodbEndpoint),
      logger: ctx.log.child({ role: 'admin' }),
      registry: createMetricsRegistry({ role: 'admin' }),
      token: secrets.adminToken,
      port: 8082,
      prefix,
    });
    const demo = await demoElection(admin.admin);
    // The gateway judges by the version in force now: wait until the opening version is.
    await new Promise((r) => setTimeout(r, Math.max(0, demo.effectiveAt - Date.now() + 50)));
    const gateway = await startGateway({
      driver,
      logger: ctx.log.child({ role: 'gateway' }),
      registry: createMetricsRegistry({ role: 'gateway' }),
      config: { port: 8080, prefix, tokenSecretFile: secrets.tokenSecretFile, corsOrigins: ['http://127.0.0.1:8081', 'http://localhost:8081'] },
    });
    // The page's vote form: a throwaway voter per click, signed with the local deployment's secret.
    const feed = await startFeed({
      driver,
      logger: ctx.log.child({ role: 'feed' }),
      registry: createMetricsRegistry({ role: 'feed' }),
      config: { redis: ctx.config.redis, port: 8081, prefix, gatewayUrl: `http://127.0.0.1:${gateway.port}` },
      demoToken: async (electionId) => {
        const voterId = `web-${randomBytes(6).toString('hex')}`;
        return { voterId, token: await issueToken({ voterId, electionId, ttlSec: 600, algorithm: 'HS256', key: secrets.tokenSecret }) };
      },
    });
    const voterToken = await issueToken({ voterId: 'you', electionId: demo.electionId, ttlSec: 86_400, algorithm: 'HS256', key: secrets.tokenSecret });
    process.stdout.write(
      [
        '',
        `Live results: http://127.0.0.1:${feed.port}/elections/${demo.electionId}   (all elections: http://127.0.0.1:${feed.port}/)`,
        '',
        'Running:',
        `  feed     http://127.0.0.1:${feed.port}  (WebSocket /v1/elections/:id/live, SSE /v1/elections/:id/events)`,
        `  gateway  http://127.0.0.1:${gateway.port}/v1/elections/:id/votes`,
        `  admin    http://127.0.0.1:${admin.port}/v1/admin/elections  (token: ${secrets.adminTokenFile})`,
        '  worker   dedup -> votes-accepted, count -> Redis, persist -> DynamoDB  (metrics :9464)',
        `  voters   ${argv.simulateRate} votes/s through the gateway into election "${demo.electionId}"`,
        '',
        'Cast a vote yourself:',
        `  curl -i -X POST http://127.0.0.1:${gateway.port}/v1/elections/${demo.electionId}/votes -H 'content-type: application/json' \\`,
        `    -H 'authorization: Bearer ${voterToken}' -d '{"candidateId":"${demo.candidates[0].id}"}'`,
        '',
        'Ctrl-C stops; `npx votestream stack down` stops the stack.',
        '',
      ].join('\n'),
    );
    if (argv.simulateRate > 0) {
      const sender = httpVoteSender({ url: `http://127.0.0.1:${gateway.port}`, algorithm: 'HS256', signingKey: secrets.tokenSecret });
      simulateVoters({ driver, prefix, elections: [demo], publishElections: false, sender, rate: argv.simulateRate, votes: 0, duplicateRatio: 0.1, logger: ctx.log }).catch(
        (err: unknown) => ctx.log.error({ err: (err as Error).message }, 'simulated voters stopped'),
      );
      printTotals(ctx.config.redis, [demo.electionId], prefix);
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

interface DevSecrets {
  readonly adminToken: string;
  readonly adminTokenFile: string;
  readonly tokenSecret: string;
  readonly tokenSecretFile: string;
}

/** The local deployment's admin token and voter-token secret: files under the stack's data dir, made once (0600). */
async function devSecrets(dir: string): Promise<DevSecrets> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ensure = async (file: string, make: () => Promise<string>): Promise<string> => {
    const path = join(dir, file);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch {
      const value = await make();
      await writeFile(path, `${value}\n`, { mode: 0o600 });
      return value;
    }
  };
  const adminToken = await ensure('admin-token', async () => randomBytes(24).toString('base64url'));
  const tokenSecret = await ensure('token.secret', async () => (await createTokenKeys('HS256')).secret!);
  return { adminToken, adminTokenFile: join(dir, 'admin-token'), tokenSecret, tokenSecretFile: join(dir, 'token.secret') };
}

/** The demo election, created and opened through the admin, or reopened when an earlier run closed it. */
async function demoElection(admin: ElectionAdmin): Promise<Election> {
  const now = Date.now();
  try {
    const { current } = await admin.show('demo');
    if (current.opensAt <= now && current.closesAt > now + 3_600_000) return current;
    return await admin.open('demo', now + 86_400_000);
  } catch (error) {
    if (!(error instanceof ElectionNotFoundError)) throw error;
  }
  await admin.create({
    electionId: 'demo',
    title: 'Demo election',
    candidates: [
      { id: 'ada', name: 'Ada Lovelace' },
      { id: 'grace', name: 'Grace Hopper' },
      { id: 'alan', name: 'Alan Turing' },
    ],
    regions: ['north', 'south', 'east', 'west'],
  });
  return admin.open('demo', now + 86_400_000);
}

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
