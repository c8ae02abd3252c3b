import { z } from 'zod';
import type { Registry } from 'prom-client';
import { ConfigError } from '../../runtime/errors.js';
import type { KafkaDriver, Producer } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { ElectionView } from './election-view.js';
import { GatewayServer } from './gateway-server.js';
import { TokenBuckets } from './token-bucket.js';
import { loadVerificationKey, TOKEN_ALGORITHMS, TokenVerifier } from './token-verifier.js';
import { VoteProducer } from './vote-producer.js';

/** The gateway's settings, checked at the edge; every secret comes from a file or the environment. */
export const GatewayConfigSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.int().min(0).max(65_535).default(8080),
  prefix: z.string().default(''),
  tokenAlgorithm: z.enum(TOKEN_ALGORITHMS).default('HS256'),
  tokenSecretFile: z.string().optional(),
  tokenPublicKeyFile: z.string().optional(),
  tokenJwksFile: z.string().optional(),
  tokenLeewaySec: z.number().min(0).max(300).default(5),
  tokenIssuer: z.string().optional(),
  tokenAudience: z.string().optional(),
  /** A voter votes once per election: a few tries a second is plenty, and the burst covers retries. */
  voterRatePerSec: z.number().positive().default(1),
  voterBurst: z.int().min(1).default(5),
  /** Per client address; many voters may share one behind a NAT, so the default is generous. */
  ipRatePerSec: z.number().positive().default(1000),
  ipBurst: z.int().min(1).default(2000),
  /** Peers whose X-Forwarded-For is believed (exact addresses). */
  trustedProxies: z.array(z.ipv4().or(z.ipv6())).default([]),
  maxInFlight: z.int().min(1).default(10_000),
  /** Web origins (scheme://host:port) whose pages may cast votes from a browser (CORS); none by default. */
  corsOrigins: z.array(z.url()).default([]),
  lingerMs: z.number().min(0).max(100).default(2),
  ackTimeoutMs: z.int().min(100).default(10_000),
  /**
   * Benchmarks only: everything but the produce (a vote is answered 202 at once, nothing reaches
   * Kafka), to measure the HTTP and judging path apart from Kafka's acknowledgement.
   */
  benchNoProduce: z.boolean().default(false),
});
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

export function parseGatewayConfig(input: GatewayConfigInput): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`gateway: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface RunningGateway {
  readonly port: number;
  readonly server: GatewayServer;
  /** Stops taking requests, answers those already in (each after its ack), closes the clients. */
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  readonly config: GatewayConfigInput;
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly env?: NodeJS.ProcessEnv;
  readonly nowMs?: () => number;
}

/** Loads the elections, then listens: a gateway that could not judge a vote never takes one. */
export async function startGateway(o: StartGatewayOptions): Promise<RunningGateway> {
  const config = parseGatewayConfig(o.config);
  const key = await loadVerificationKey(
    { algorithm: config.tokenAlgorithm, secretFile: config.tokenSecretFile, publicKeyFile: config.tokenPublicKeyFile, jwksFile: config.tokenJwksFile },
    o.env,
  );
  const verifier = new TokenVerifier({
    algorithm: config.tokenAlgorithm,
    key,
    leewaySec: config.tokenLeewaySec,
    ...(config.tokenIssuer === undefined ? {} : { issuer: config.tokenIssuer }),
    ...(config.tokenAudience === undefined ? {} : { audience: config.tokenAudience }),
  });
  const elections = new ElectionView({ driver: o.driver, logger: o.logger, prefix: config.prefix, ...(o.nowMs === undefined ? {} : { nowMs: o.nowMs }) });
  await elections.start();
  const kafka: Producer = config.benchNoProduce ? { send: async () => ({ offsets: [] }), close: async () => undefined } : await o.driver.createProducer({ clientId: 'votestream-gateway' });
  const producer = new VoteProducer({ producer: kafka, lingerMs: config.lingerMs, maxInFlight: config.maxInFlight, ackTimeoutMs: config.ackTimeoutMs });
  const server = new GatewayServer({
    host: config.host,
    port: config.port,
    logger: o.logger,
    registry: o.registry,
    verifier,
    elections,
    producer,
    voterLimit: new TokenBuckets({ ratePerSec: config.voterRatePerSec, burst: config.voterBurst }),
    ipLimit: new TokenBuckets({ ratePerSec: config.ipRatePerSec, burst: config.ipBurst }),
    trustedProxies: new Set(config.trustedProxies),
    corsOrigins: new Set(config.corsOrigins.map((o) => new URL(o).origin)),
    prefix: config.prefix,
    ...(o.nowMs === undefined ? {} : { nowMs: o.nowMs }),
  });
  let port: number;
  try {
    port = await server.listen();
  } catch (error) {
    await Promise.allSettled([elections.close(), kafka.close()]);
    throw error;
  }
  o.logger.info({ port, elections: elections.ids().length }, 'gateway listening');
  return {
    port,
    server,
    close: async () => {
      await server.drain();
      await producer.close();
      // A client closing against a broker that is down can wait for ever; the process is leaving anyway.
      await Promise.race([Promise.allSettled([elections.close(), kafka.close()]), new Promise((r) => setTimeout(r, 5_000).unref())]);
    },
  };
}
