import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startGateway } from '../../voting/gateway/gateway.js';
import { TOKEN_ALGORITHMS, type TokenAlgorithm } from '../../voting/gateway/token-verifier.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { serveUntilSignal, serviceOptions, superviseCopies, type ServiceArgs } from '../http-service.js';

export interface GatewayArgs extends GlobalArgs, ServiceArgs {
  tokenAlgorithm: TokenAlgorithm;
  tokenSecretFile?: string;
  tokenPublicKeyFile?: string;
  tokenJwksFile?: string;
  tokenLeewaySec: number;
  voterRate: number;
  voterBurst: number;
  ipRate: number;
  ipBurst: number;
  maxInFlight: number;
  benchNoProduce: boolean;
  corsOrigins: string[];
  gatewayIndex?: number;
}

export const gatewayCommand: CommandModule<GlobalArgs, GatewayArgs> = {
  command: 'gateway',
  describe: 'run the vote gateway: POST /v1/elections/:id/votes -> votes (202 only after Kafka acknowledged)',
  builder: (y: Argv<GlobalArgs>) =>
    serviceOptions(y, 8080, 'gateway')
      .option('token-algorithm', { choices: TOKEN_ALGORITHMS, default: 'HS256' as TokenAlgorithm, describe: 'the one JWT algorithm accepted' })
      .option('token-secret-file', { type: 'string', describe: 'HS256 secret file (else env VOTESTREAM_TOKEN_SECRET)' })
      .option('token-public-key-file', { type: 'string', describe: 'EdDSA/ES256 public key (SPKI PEM)' })
      .option('token-jwks-file', { type: 'string', describe: 'EdDSA/ES256 JWKS file' })
      .option('token-leeway-sec', { type: 'number', default: 5, describe: 'clock leeway for exp/nbf' })
      .option('voter-rate', { type: 'number', default: 1, describe: 'requests per second per voter' })
      .option('voter-burst', { type: 'number', default: 5 })
      .option('ip-rate', { type: 'number', default: 1000, describe: 'requests per second per client address' })
      .option('ip-burst', { type: 'number', default: 2000 })
      .option('max-in-flight', { type: 'number', default: 10_000, describe: 'votes waiting for Kafka at most; beyond it 503' })
      .option('cors-origins', { type: 'string', array: true, default: [] as string[], describe: 'web origins whose pages may cast votes (e.g. the live page http://127.0.0.1:8081)' })
      .option('bench-no-produce', { type: 'boolean', default: false, hidden: true })
      .option('gateway-index', { type: 'number', hidden: true }) as unknown as Argv<GatewayArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (await superviseCopies({ processes: argv.processes, indexOption: 'gateway-index', logger: ctx.log.child({ role: 'gateway-supervisor' }) })) return;
    const logger = createLogger({ level: ctx.config.logLevel, name: 'votestream-gateway', bindings: argv.gatewayIndex !== undefined ? { gateway: argv.gatewayIndex } : {} });
    const registry = createMetricsRegistry({ role: 'gateway', instance: `${hostname()}-${argv.gatewayIndex ?? 0}` });
    const driver = createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-gateway' });
    const gateway = await startGateway({
      driver,
      logger,
      registry,
      config: {
        host: argv.host,
        port: argv.port,
        prefix: ctx.config.topicPrefix,
        tokenAlgorithm: argv.tokenAlgorithm,
        tokenSecretFile: argv.tokenSecretFile,
        tokenPublicKeyFile: argv.tokenPublicKeyFile,
        tokenJwksFile: argv.tokenJwksFile,
        tokenLeewaySec: argv.tokenLeewaySec,
        voterRatePerSec: argv.voterRate,
        voterBurst: argv.voterBurst,
        ipRatePerSec: argv.ipRate,
        ipBurst: argv.ipBurst,
        trustedProxies: argv.trustedProxies,
        maxInFlight: argv.maxInFlight,
        benchNoProduce: argv.benchNoProduce,
        corsOrigins: argv.corsOrigins,
      },
    });
    process.stdout.write(`gateway listening on http://${argv.host}:${gateway.port} (POST /v1/elections/:id/votes; /healthz /readyz /metrics)\n`);
    await serveUntilSignal(logger, 'draining: answering the requests already in, then exiting', () => gateway.close());
  },
};
