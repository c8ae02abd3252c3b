import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startGateway } from '../../voting/gateway/gateway.js';
import { TOKEN_ALGORITHMS, type TokenAlgorithm } from '../../voting/gateway/token-verifier.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { superviseWorkers } from '../worker-supervisor.js';
import { withoutOptions } from './worker.js';

export interface GatewayArgs extends GlobalArgs {
  port: number;
  host: string;
  processes: number;
  tokenAlgorithm: TokenAlgorithm;
  tokenSecretFile?: string;
  tokenPublicKeyFile?: string;
  tokenJwksFile?: string;
  tokenLeewaySec: number;
  voterRate: number;
  voterBurst: number;
  ipRate: number;
  ipBurst: number;
  trustedProxies: string[];
  maxInFlight: number;
  benchNoProduce: boolean;
  corsOrigins: string[];
  gatewayIndex?: number;
}

export const gatewayCommand: CommandModule<GlobalArgs, GatewayArgs> = {
  command: 'gateway',
  describe: 'run the vote gateway: POST /v1/elections/:id/votes -> votes (202 only after Kafka acknowledged)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('port', { type: 'number', default: 8080 })
      .option('host', { type: 'string', default: '0.0.0.0' })
      .option('processes', { type: 'number', default: 1, describe: 'gateway processes sharing the port (restarted with backoff if they crash)' })
      .option('token-algorithm', { choices: TOKEN_ALGORITHMS, default: 'HS256' as TokenAlgorithm, describe: 'the one JWT algorithm accepted' })
      .option('token-secret-file', { type: 'string', describe: 'HS256 secret file (else env VOTESTREAM_TOKEN_SECRET)' })
      .option('token-public-key-file', { type: 'string', describe: 'EdDSA/ES256 public key (SPKI PEM)' })
      .option('token-jwks-file', { type: 'string', describe: 'EdDSA/ES256 JWKS file' })
      .option('token-leeway-sec', { type: 'number', default: 5, describe: 'clock leeway for exp/nbf' })
      .option('voter-rate', { type: 'number', default: 1, describe: 'requests per second per voter' })
      .option('voter-burst', { type: 'number', default: 5 })
      .option('ip-rate', { type: 'number', default: 1000, describe: 'requests per second per client address' })
      .option('ip-burst', { type: 'number', default: 2000 })
      .option('trusted-proxies', { type: 'string', array: true, default: [] as string[], describe: 'peers whose X-Forwarded-For is believed' })
      .option('max-in-flight', { type: 'number', default: 10_000, describe: 'votes waiting for Kafka at most; beyond it 503' })
      .option('cors-origins', { type: 'string', array: true, default: [] as string[], describe: 'web origins whose pages may cast votes (e.g. the live page http://127.0.0.1:8081)' })
      .option('bench-no-produce', { type: 'boolean', default: false, hidden: true })
      .option('gateway-index', { type: 'number', hidden: true }) as unknown as Argv<GatewayArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (!Number.isInteger(argv.processes) || argv.processes < 1) throw new ConfigError(`--processes must be a positive integer, got ${argv.processes}`);
    if (argv.processes > 1) {
      const passOn = withoutOptions(process.argv.slice(2), ['processes', 'gateway-index']);
      process.exitCode = await superviseWorkers({
        processes: argv.processes,
        logger: ctx.log.child({ role: 'gateway-supervisor' }),
        argsFor: (i) => [...passOn, '--processes', '1', '--gateway-index', String(i)],
      });
      return;
    }
    const logger = createLogger({ level: ctx.config.logLevel, name: 'votestream-gateway', bindings: argv.gatewayIndex !== undefined ? { gateway: argv.gatewayIndex } : {} });
    const registry = createMetricsRegistry({ role: 'gateway', instance: `${hostname()}-${argv.gatewayIndex ?? 0}` });
    const driver = new PlatformaticKafkaDriver({ brokers: ctx.config.brokers, clientId: 'votestream-gateway' });
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
    let firstSignalAt = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      // Ctrl-C reaches a supervised gateway twice (from the terminal's process group and from the
      // supervisor): only a signal a second after the first means "now".
      if (firstSignalAt > 0) {
        if (Date.now() - firstSignalAt > 1000) process.exit(130);
        return;
      }
      firstSignalAt = Date.now();
      logger.info({ signal }, 'draining: answering the requests already in, then exiting');
      void gateway.close().then(() => process.exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await new Promise<never>(() => undefined);
  },
};
