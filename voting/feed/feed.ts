import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ConfigError, ServiceUnavailableError } from '../../runtime/errors.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { createRedisClient } from '../../sinks/redis-client.js';
import { ElectionView } from '../gateway/election-view.js';
import type { ElectionSource } from './election-source.js';
import { FeedServer, type DemoToken } from './feed-server.js';
import { defaultPageDir, loadPageFiles } from './page-files.js';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { parseVerifierKey } from '../audit/signed-note.js';
import { tableNames } from '../topics.js';
import { FeedReceipts } from './receipts-route.js';
import { UpdatesSubscriber } from './updates-subscriber.js';
import { connectionCapFor, openFilesLimit } from '../../infra/open-files-limit.js';

/** The feed's settings, checked at the edge. */
export const FeedConfigSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.int().min(0).max(65_535).default(8081),
  prefix: z.string().default(''),
  /** The Redis URL (the counts, and their updates channel). */
  redis: z.string().min(1),
  /** At most one snapshot per election per interval (conflation), only when something changed. */
  intervalMs: z.int().min(10).max(60_000).default(250),
  /** Elections with clients are reread this often without an update (the official result comes without one). */
  refreshMs: z.int().min(100).default(5_000),
  /** Where the page sends votes (`GET /v1/config`); none: the page shows results only. */
  gatewayUrl: z.url().optional(),
  /** Open streams (WebSocket + SSE) in total, and per client address. */
  maxConnections: z.int().min(1).default(20_000),
  maxConnectionsPerIp: z.int().min(1).default(100),
  /** A WebSocket client with more than this buffered is skipped (it gets the latest snapshot once drained). */
  slowClientBytes: z.int().min(1024).default(64 * 1024),
  /** uWS's hard cap per WebSocket: beyond it messages are dropped and the socket closed. */
  maxBackpressureBytes: z.int().min(4096).default(1024 * 1024),
  /** Snapshots skipped in a row after which a slow client is dropped (40 x 250 ms = 10 s). */
  maxSkippedSnapshots: z.int().min(1).default(40),
  /** SSE heartbeat comment period. */
  heartbeatMs: z.int().min(100).default(15_000),
  /** SSE `retry:`: what EventSource waits before reconnecting. */
  sseRetryMs: z.int().min(100).default(2_000),
  /** Peers whose X-Forwarded-For is believed for the per-address limit (exact addresses). */
  trustedProxies: z.array(z.ipv4().or(z.ipv6())).default([]),
  /** The live page's folder; default the package's voting/page/. */
  pageDir: z.string().optional(),
  /** DynamoDB, for receipts (`GET /v1/elections/:id/receipts/:voteId`); none: receipts are not served. */
  dynamodbEndpoint: z.string().min(1).optional(),
  /** The votes table; default the prefix's `votestream-votes`. */
  votesTable: z.string().min(1).optional(),
  /** A file holding the deployment's verifier key (`audit keys` writes signing.vkey), served at `GET /v1/keys`. */
  signingPublicKeyFile: z.string().min(1).optional(),
});
export type FeedConfigInput = z.input<typeof FeedConfigSchema>;
export type FeedConfig = z.output<typeof FeedConfigSchema>;

export function parseFeedConfig(input: FeedConfigInput): FeedConfig {
  const parsed = FeedConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`feed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export type { DemoToken };

export interface StartFeedOptions {
  readonly config: FeedConfigInput;
  /** Reads `elections` (through the gateway's ElectionView); unused when `elections` is given. */
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Dev mode only: a throwaway voter (random id per call) and its token, served at `GET /v1/demo-token`. */
  readonly demoToken?: (electionId: string) => Promise<DemoToken>;
  /** The elections, when the caller already follows them (then `driver` is not read). */
  readonly elections?: ElectionSource;
  readonly nowMs?: () => number;
}

export interface RunningFeed {
  readonly port: number;
  /** Stops listening, closes every stream and the Redis and Kafka connections. */
  close(): Promise<void>;
}

/** The verifier key in `file` (its first line), checked: a feed must not hand auditors a broken key. */
function readVerifierKey(file: string): string {
  let line: string | undefined;
  try {
    line = readFileSync(file, 'utf8').split('\n').find((l) => l.trim() !== '');
  } catch (err) {
    throw new ConfigError(`feed: cannot read the signing public key ${file}: ${(err as Error).message}`);
  }
  if (line === undefined) throw new ConfigError(`feed: ${file} holds no verifier key`);
  try {
    parseVerifierKey(line);
  } catch (err) {
    throw new ConfigError(`feed: ${file}: ${(err as Error).message}`);
  }
  return line.trim();
}

/** Loads the elections, connects to Redis (a reader and a subscriber), then listens. */
export async function startFeed(o: StartFeedOptions): Promise<RunningFeed> {
  const config = parseFeedConfig(o.config);
  const descriptors = openFilesLimit();
  const maxConnections = connectionCapFor(config.maxConnections, descriptors);
  if (maxConnections < config.maxConnections) {
    o.logger.warn({ requested: config.maxConnections, cap: maxConnections, openFilesSoftLimit: descriptors?.soft, openFilesHardLimit: descriptors?.hard }, 'max connections lowered to what the open-files limit allows (raise ulimit -n for more)');
  }
  const vkey = config.signingPublicKeyFile === undefined ? undefined : readVerifierKey(config.signingPublicKeyFile);
  const dynamodb = config.dynamodbEndpoint === undefined ? undefined : dynamoClient(config.dynamodbEndpoint);
  const receipts = new FeedReceipts({ dynamodb, table: config.votesTable ?? tableNames(config.prefix).votes, vkey, logger: o.logger });
  const view = o.elections === undefined ? new ElectionView({ driver: o.driver, logger: o.logger, prefix: config.prefix, ...(o.nowMs === undefined ? {} : { nowMs: o.nowMs }) }) : undefined;
  const reader = createRedisClient(config.redis, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(100 * times, 2_000) });
  let lastReaderError = 0;
  reader.on('error', (error: Error) => {
    if (Date.now() - lastReaderError < 5_000) return;
    lastReaderError = Date.now();
    o.logger.warn({ err: error.message }, 'redis reader connection failed; reconnecting');
  });
  const updates = new UpdatesSubscriber({ url: config.redis, prefix: config.prefix, logger: o.logger });
  const release = async (): Promise<void> => {
    reader.disconnect();
    dynamodb?.destroy();
    await updates.close();
    await view?.close();
  };
  let server: FeedServer;
  let port: number;
  try {
    await view?.start();
    await Promise.all([reader.connect(), updates.start()]).catch((error: unknown) => {
      throw new ServiceUnavailableError(`the feed cannot connect to Redis at ${config.redis}`, { cause: error });
    });
    const pageDir = config.pageDir ?? defaultPageDir();
    const pageFiles = loadPageFiles(pageDir);
    if (pageFiles.size === 0) o.logger.warn({ pageDir }, 'no live page files found; the page routes answer 404');
    server = new FeedServer({
      ...config,
      maxConnections,
      logger: o.logger,
      registry: o.registry,
      elections: (o.elections ?? view)!,
      reader,
      updates,
      pageFiles,
      gatewayUrl: config.gatewayUrl,
      demoToken: o.demoToken,
      trustedProxies: new Set(config.trustedProxies),
      nowMs: o.nowMs ?? Date.now,
      receipts,
    });
    port = await server.listen();
  } catch (error) {
    await release();
    throw error;
  }
  o.logger.info({ port, elections: (o.elections ?? view)!.ids().length }, 'feed listening');
  return {
    port,
    close: async () => {
      server.close();
      await release();
    },
  };
}
