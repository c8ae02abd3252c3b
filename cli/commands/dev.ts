import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackUp, stopServices, type ServiceName, type ServiceUpResult } from '../../infra/stack.js';
import { stackToStop } from '../../infra/stack-to-stop.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createRedisClient } from '../../sinks/redis-client.js';
import { provisionVoting } from '../../voting/provision.js';
import { countsKey, TOTAL_FIELD } from '../../voting/redis-keys.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startAdmin } from '../../voting/admin/admin-service.js';
import { ElectionNotFoundError, type ElectionAdmin } from '../../voting/admin/election-admin.js';
import type { Election } from '../../voting/election.js';
import { createSigningKeys, deploymentName, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../voting/audit/signing-key.js';
import { startFeed } from '../../voting/feed/feed.js';
import { startGateway } from '../../voting/gateway/gateway.js';
import { createTokenKeys, issueToken } from '../../voting/gateway/token-issuer.js';
import { httpVoteSender } from '../../voting/http-voters.js';
import { simulateVoters } from '../../voting/simulator.js';
import { DevShutdown } from './dev-shutdown.js';
import { commandContext, type CommandContext, type GlobalArgs } from '../context.js';

interface DevArgs extends GlobalArgs {
  dataDir: string;
  simulateRate: number;
  keepStack: boolean;
  gatewayPort: number;
  feedPort: number;
  adminPort: number;
  workerMetricsPort: number;
  stackPortOffset: number;
}

/**
 * `npm start`: everything that exists so far, on one machine. It grows as the system does; today
 * it brings up the stack, provisions topics and tables, runs the elections admin and the gateway,
 * opens a demo election through the admin, runs the feed with the live page, drives simulated
 * voters through the gateway, and runs a worker with every role. Ctrl-C stops all of it, and the
 * stack services it started itself.
 */
export const devCommand: CommandModule<GlobalArgs, DevArgs> = {
  command: 'dev',
  describe: 'run the whole system locally: stack, topics and tables, admin, gateway, feed and live page, a worker, simulated voters; Ctrl-C stops what it started',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('data-dir', { type: 'string', default: '.stack', describe: 'local stack data directory (also the secrets and the worker state)' })
      .option('simulate-rate', { type: 'number', default: 100, describe: 'simulated votes per second (0: none)' })
      .option('keep-stack', { type: 'boolean', default: false, describe: 'leave the stack services this run started running on exit' })
      .option('gateway-port', { type: 'number', default: 8080 })
      .option('feed-port', { type: 'number', default: 8081, describe: 'the feed and the live page' })
      .option('admin-port', { type: 'number', default: 8082 })
      .option('worker-metrics-port', { type: 'number', default: 9464, describe: "the worker's Prometheus /metrics (0: any free port)" })
      .option('stack-port-offset', { type: 'number', default: 0, describe: "added to the stack's default ports: a second stack beside another" }) as unknown as Argv<DevArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const shutdown = new DevShutdown(ctx.log);
    try {
      await startAll(argv, ctx, shutdown);
    } catch (error) {
      // What started before the failure is stopped before the CLI reports it.
      if (!shutdown.isRequested) {
        await shutdown.stopAll();
        throw error;
      }
    }
    const exitCode = await shutdown.requested;
    await shutdown.stopAll();
    process.exit(exitCode);
  },
};

/** Starts everything, adding each part to `shutdown` as it starts; returns early if a stop is requested. */
async function startAll(argv: DevArgs, ctx: CommandContext, shutdown: DevShutdown): Promise<void> {
  const config = stackConfig({ dataDir: argv.dataDir, portOffset: argv.stackPortOffset });
  // Filled as each service is launched, before the stack is healthy: a Ctrl-C while Kafka is
  // still starting stops (or a second one kills) exactly what this run launched.
  let launched: Partial<Record<ServiceName, { action: 'started' }>> = {};
  shutdown.add({
    name: 'stack',
    stop: async () => void (await stopServices(config, stackToStop(launched, argv.keepStack))),
    kill: async () => void (await stopServices(config, stackToStop(launched, argv.keepStack), 0)),
    // Its own grace periods bound it (Kafka's is the longest).
    timeoutMs: 45_000,
  });
  const up = await stackUp(config, {
    external: ctx.external,
    log: (m) => ctx.log.info(m),
    onStarted: (name) => (launched = { ...launched, [name]: { action: 'started' } }),
  });
  const stackLines = Object.entries(up).map(([name, r]) => `  ${name.padEnd(9)}${r.address}  ${stackNote(r.action, argv.keepStack)}`);
  if (shutdown.isRequested) return;
  const services = { brokers: up.kafka.address, redis: up.redis.address, dynamodbEndpoint: up.dynamodb.address };
  const prefix = ctx.config.topicPrefix;
  const dynamodb = dynamoClient(services.dynamodbEndpoint);
  shutdown.add({ name: 'dynamodb client', stop: async () => dynamodb.destroy() });
  const p = await provisionVoting({ brokers: services.brokers, dynamodb, prefix });
  const provisioned = `topics: ${p.topics.created.length} created, ${p.topics.found.length} found; tables: ${p.tables.created.length} created, ${p.tables.found.length} found`;
  if (shutdown.isRequested) return;
  const secrets = await devSecrets(join(argv.dataDir, 'secrets'));
  const keys = devSigningKeys(join(argv.dataDir, 'keys'), prefix);
  // The worker only needs the topics: it joins its group while the services below start.
  startWorker(argv, ctx, services, keys.privateKeyFile, shutdown);
  const driver = createKafkaDriver(ctx.config.driver, { brokers: services.brokers, clientId: 'votestream-dev' });
  const admin = await startAdmin({
    driver,
    dynamodb,
    logger: ctx.log.child({ role: 'admin' }),
    registry: createMetricsRegistry({ role: 'admin' }),
    token: secrets.adminToken,
    port: argv.adminPort,
    prefix,
  });
  shutdown.add({ name: 'admin', stop: () => admin.close() });
  if (shutdown.isRequested) return;
  const demo = await demoElection(admin.admin);
  // The gateway judges by the version in force now: wait until the opening version is.
  await new Promise((r) => setTimeout(r, Math.max(0, demo.effectiveAt - Date.now() + 50)));
  const pageOrigins = [`http://127.0.0.1:${argv.feedPort}`, `http://localhost:${argv.feedPort}`];
  const gateway = await startGateway({
    driver,
    logger: ctx.log.child({ role: 'gateway' }),
    registry: createMetricsRegistry({ role: 'gateway' }),
    config: { port: argv.gatewayPort, prefix, tokenSecretFile: secrets.tokenSecretFile, corsOrigins: pageOrigins },
  });
  shutdown.add({ name: 'gateway', stop: () => gateway.close() });
  if (shutdown.isRequested) return;
  // The page's vote form: a throwaway voter per click, signed with the local deployment's secret.
  const feed = await startFeed({
    driver,
    logger: ctx.log.child({ role: 'feed' }),
    registry: createMetricsRegistry({ role: 'feed' }),
    config: {
      redis: services.redis,
      port: argv.feedPort,
      prefix,
      gatewayUrl: `http://127.0.0.1:${gateway.port}`,
      // Receipts and /v1/keys once the worker's audit role made an election official.
      dynamodbEndpoint: services.dynamodbEndpoint,
      signingPublicKeyFile: keys.publicKeyFile,
    },
    demoToken: async (electionId) => {
      const voterId = `web-${randomBytes(6).toString('hex')}`;
      return { voterId, token: await issueToken({ voterId, electionId, ttlSec: 600, algorithm: 'HS256', key: secrets.tokenSecret }) };
    },
  });
  shutdown.add({ name: 'feed', stop: () => feed.close() });
  if (shutdown.isRequested) return;
  const voterToken = await issueToken({ voterId: 'you', electionId: demo.electionId, ttlSec: 86_400, algorithm: 'HS256', key: secrets.tokenSecret });
  process.stdout.write(
    [
      `Live results: http://127.0.0.1:${feed.port}/elections/${demo.electionId}   (all elections: http://127.0.0.1:${feed.port}/)`,
      '',
      'Running:',
      `  feed     http://127.0.0.1:${feed.port}  (WebSocket /v1/elections/:id/live, SSE /v1/elections/:id/events)`,
      `  gateway  http://127.0.0.1:${gateway.port}/v1/elections/:id/votes`,
      `  admin    http://127.0.0.1:${admin.port}/v1/admin/elections  (token: ${secrets.adminTokenFile})`,
      `  worker   dedup -> votes-accepted, count -> Redis, persist -> DynamoDB, audit -> official result after each close  (metrics ${argv.workerMetricsPort === 0 ? 'on any free port' : `:${argv.workerMetricsPort}`})`,
      `  keys     checkpoints signed with ${keys.privateKeyFile}; verifier key ${keys.publicKeyFile} (GET /v1/keys)`,
      `  voters   ${argv.simulateRate} votes/s through the gateway into election "${demo.electionId}"`,
      'Stack:',
      ...stackLines,
      `  ${provisioned}`,
      '',
      'Cast a vote yourself:',
      `  curl -i -X POST http://127.0.0.1:${gateway.port}/v1/elections/${demo.electionId}/votes -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${voterToken}' -d '{"candidateId":"${demo.candidates[0].id}"}'`,
      '',
      ctrlCNote(up, argv.keepStack),
      '',
    ].join('\n'),
  );
  if (argv.simulateRate > 0) {
    const sender = httpVoteSender({ url: `http://127.0.0.1:${gateway.port}`, algorithm: 'HS256', signingKey: secrets.tokenSecret });
    const abort = new AbortController();
    const voting = simulateVoters({ driver, prefix, elections: [demo], publishElections: false, sender, rate: argv.simulateRate, votes: 0, duplicateRatio: 0.1, signal: abort.signal, logger: ctx.log }).catch(
      (err: unknown) => ctx.log.error({ err: (err as Error).message }, 'simulated voters stopped'),
    );
    shutdown.add({ name: 'simulated voters', stop: async () => (abort.abort(), void (await voting)) });
    const totals = printTotals(services.redis, [demo.electionId], prefix);
    shutdown.add({ name: 'totals', stop: totals });
  }
}

/** The banner's last line: what Ctrl-C stops, the stack included or not. */
function ctrlCNote(up: Record<ServiceName, ServiceUpResult>, keepStack: boolean): string {
  if (stackToStop(up, keepStack).length > 0) return 'Ctrl-C stops all of it, the stack services it started too (a second Ctrl-C: at once).';
  const why = Object.values(up).some((r) => r.action === 'started') ? '--keep-stack' : 'it was running before';
  return `Ctrl-C stops all of it but the stack (${why}; \`npx votestream stack down\` stops it).`;
}

/** What the stack line says will happen to the service on Ctrl-C. */
function stackNote(action: ServiceUpResult['action'], keepStack: boolean): string {
  if (action !== 'started') return `${action} (left running)`;
  return keepStack ? 'started (kept running: --keep-stack)' : 'started (stopped on Ctrl-C)';
}

/**
 * The worker, as a child process so that its own close (finish the batch, commit) runs on our
 * SIGTERM. Detached, in a process group of its own, so a terminal's Ctrl-C reaches only us and
 * the worker is told once, in order; a worker that dies stops everything else.
 */
function startWorker(argv: DevArgs, ctx: CommandContext, services: { brokers: string; redis: string; dynamodbEndpoint: string }, keyFile: string, shutdown: DevShutdown): void {
  const args = [
    'worker',
    ...['--processes', '1', '--state-dir', join(argv.dataDir, 'state'), '--metrics-port', String(argv.workerMetricsPort)],
    ...['--roles', 'dedup', 'count', 'persist', 'audit', '--key-file', keyFile],
    ...['--brokers', services.brokers, '--driver', ctx.config.driver, '--redis', services.redis, '--dynamodb-endpoint', services.dynamodbEndpoint],
    ...['--topic-prefix', ctx.config.topicPrefix, '--log-level', ctx.config.logLevel],
  ];
  const child = spawn(process.execPath, [process.argv[1], ...args], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (!shutdown.isRequested) shutdown.request(1, `the worker exited (code ${code}, signal ${signal}); see its log above`);
  });
  const killAfter = async (graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  shutdown.add({ name: 'worker', stop: () => killAfter(20_000), kill: () => killAfter(0), timeoutMs: 25_000 });
}

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

/** The local deployment's checkpoint signing key pair under the data dir, made once (audit keys' format). */
function devSigningKeys(dir: string, prefix: string): { privateKeyFile: string; publicKeyFile: string } {
  const privateKeyFile = resolve(dir, PRIVATE_KEY_FILE);
  if (!existsSync(privateKeyFile)) createSigningKeys(dir, deploymentName(undefined, { topicPrefix: prefix }));
  return { privateKeyFile, publicKeyFile: resolve(dir, PUBLIC_KEY_FILE) };
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

/** Every 5 s, one line of live totals per election from the Redis read model; returns its stop. */
function printTotals(url: string, elections: readonly string[], prefix: string): () => Promise<void> {
  const redis = createRedisClient(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
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
  return async () => {
    clearInterval(timer);
    redis.disconnect();
  };
}
