import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startFeed } from '../../voting/feed/feed.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { serveUntilSignal, serviceOptions, superviseCopies, type ServiceArgs } from '../http-service.js';

export interface FeedArgs extends GlobalArgs, ServiceArgs {
  interval: number;
  gatewayUrl?: string;
  maxConnections: number;
  maxConnectionsPerIp: number;
  feedIndex?: number;
  signingPublicKey?: string;
}

export const feedCommand: CommandModule<GlobalArgs, FeedArgs> = {
  command: 'feed',
  describe: 'run the live-results feed: WebSocket /v1/elections/:id/live, SSE /v1/elections/:id/events, results, and the live page at /',
  builder: (y: Argv<GlobalArgs>) =>
    serviceOptions(y, 8081, 'feed')
      .option('interval', { type: 'number', default: 250, describe: 'at most one snapshot per election per this many ms' })
      .option('gateway-url', { type: 'string', describe: 'where the live page sends votes (GET /v1/config)' })
      .option('max-connections', { type: 'number', default: 20_000, describe: 'open streams (WebSocket + SSE) per process' })
      .option('max-connections-per-ip', { type: 'number', default: 100, describe: 'open streams per client address' })
      .option('signing-public-key', { type: 'string', describe: 'file with the verifier key that signs official results (audit keys writes signing.vkey), served at GET /v1/keys' })
      .option('feed-index', { type: 'number', hidden: true }) as unknown as Argv<FeedArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (await superviseCopies({ processes: argv.processes, indexOption: 'feed-index', logger: ctx.log.child({ role: 'feed-supervisor' }) })) return;
    const logger = createLogger({ level: ctx.config.logLevel, name: 'votestream-feed', bindings: argv.feedIndex !== undefined ? { feed: argv.feedIndex } : {} });
    const registry = createMetricsRegistry({ role: 'feed', instance: `${hostname()}-${argv.feedIndex ?? 0}` });
    const driver = createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-feed' });
    const feed = await startFeed({
      driver,
      logger,
      registry,
      config: {
        host: argv.host,
        port: argv.port,
        prefix: ctx.config.topicPrefix,
        redis: ctx.config.redis,
        intervalMs: argv.interval,
        gatewayUrl: argv.gatewayUrl,
        maxConnections: argv.maxConnections,
        maxConnectionsPerIp: argv.maxConnectionsPerIp,
        trustedProxies: argv.trustedProxies,
        // Receipts read the vote chains; the client connects on the first receipt asked for.
        dynamodbEndpoint: ctx.config.dynamodbEndpoint,
        signingPublicKeyFile: argv.signingPublicKey,
      },
    });
    process.stdout.write(`feed listening on http://${argv.host}:${feed.port} (live page at /; /healthz /readyz /metrics)\n`);
    await serveUntilSignal(logger, 'closing the streams, then exiting', () => feed.close());
  },
};
