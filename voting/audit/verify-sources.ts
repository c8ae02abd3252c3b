/**
 * Opens what an audit reads, for the CLI: every service must answer first (an audit that cannot
 * read a source has found nothing, and must say so with the service exit code rather than print a
 * report), the votes table and `votes-accepted` must exist, and the chains to read are the
 * partitions of `votes-accepted`. The pieces are exported: `rebuild` opens the same services the
 * same way.
 */
import { DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { dynamodbHealthy, kafkaHealthy } from '../../infra/health.js';
import { ConfigError, ServiceUnavailableError } from '../../runtime/errors.js';
import { createRedisClient, redisAnswers, type RedisClient } from '../../sinks/redis-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createKafkaDriver, type KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import type { Logger } from '../../runtime/logger.js';
import { tableNames, topicNames } from '../topics.js';
import type { AuditSources } from './verify-chains.js';

export interface AuditServices {
  readonly brokers: string;
  /** The Kafka client; platformatic unless given. */
  readonly driver?: KafkaDriverName;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly topicPrefix: string;
}

export interface OpenAuditSources extends AuditSources {
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 5_000;

/** Every service given must answer, or ServiceUnavailableError naming those that do not. */
export async function requireServices(services: { readonly brokers?: string; readonly redis?: string; readonly dynamodbEndpoint?: string }): Promise<void> {
  const { brokers, redis, dynamodbEndpoint } = services;
  const checks: [string | undefined, string, (address: string, timeoutMs: number) => Promise<boolean>][] = [
    [brokers, 'Kafka', kafkaHealthy],
    [redis, 'Redis', redisAnswers],
    [dynamodbEndpoint, 'DynamoDB', dynamodbHealthy],
  ];
  const answers = await Promise.all(checks.map(async ([address, name, healthy]) => (address === undefined || (await healthy(address, HEALTH_TIMEOUT_MS)) ? [] : [`${name} at ${address}`])));
  const down = answers.flat();
  if (down.length > 0) throw new ServiceUnavailableError(`not answering: ${down.join(', ')}`);
}

/** A command's Redis client: bounded retries, so a command fails rather than hang when Redis goes away half-way. */
export function commandRedis(url: string, connectionName: string, log: Logger): RedisClient {
  const redis = createRedisClient(url, { maxRetriesPerRequest: 3, retryStrategy: (times) => (times > 10 ? null : 200), connectionName });
  redis.on('error', (err: unknown) => log.debug({ err }, `${connectionName}: Redis connection error`));
  return redis;
}

export async function closeCommandRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/** ConfigError when the table is missing (the user runs `init`). */
export async function requireTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) throw new ConfigError(`DynamoDB table ${table} does not exist (run \`votestream init\`?)`);
    throw err;
  }
}

/** The partition count of `votes-accepted` (the chains of every election); ConfigError when the topic is missing. */
export async function votesAcceptedPartitions(driver: KafkaDriver, prefix: string, clientId: string): Promise<number> {
  const topic = topicNames(prefix).votesAccepted;
  const admin = driver.createAdmin({ clientId });
  return admin
    .partitionCounts([topic])
    .then((counts) => counts.get(topic) ?? 0)
    .catch((err: unknown) => {
      throw new ConfigError(`topic ${topic} is missing (run \`votestream init\`?): ${(err as Error).message}`);
    })
    .finally(() => admin.close());
}

export async function openAuditSources(services: AuditServices, log: Logger, extra: Pick<AuditSources, 'concurrency' | 'progress'> = {}): Promise<OpenAuditSources> {
  await requireServices(services);
  const prefix = services.topicPrefix;
  const driver = createKafkaDriver(services.driver ?? 'platformatic', { brokers: services.brokers, clientId: 'votestream-audit' });
  const dynamodb = dynamoClient(services.dynamodbEndpoint);
  const redis = commandRedis(services.redis, 'votestream-audit', log);
  const close = async () => {
    dynamodb.destroy();
    await closeCommandRedis(redis);
  };
  try {
    await requireTable(dynamodb, tableNames(prefix).votes);
    const partitions = await votesAcceptedPartitions(driver, prefix, 'votestream-audit-admin');
    return { driver, dynamodb, redis, prefix, partitions, ...extra, close };
  } catch (err) {
    await close();
    throw err;
  }
}
