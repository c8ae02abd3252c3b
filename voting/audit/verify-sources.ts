/**
 * Opens what an audit reads, for the CLI: every service must answer first (an audit that cannot
 * read a source has found nothing, and must say so with the service exit code rather than print a
 * report), the votes table and `votes-accepted` must exist, and the chains to read are the
 * partitions of `votes-accepted`.
 */
import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { dynamodbHealthy, kafkaHealthy, redisHealthy } from '../../infra/health.js';
import { ConfigError, ServiceUnavailableError } from '../../runtime/errors.js';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import type { Logger } from '../../runtime/logger.js';
import { tableNames, topicNames } from '../topics.js';
import type { AuditSources } from './verify-chains.js';

export interface AuditServices {
  readonly brokers: string;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly topicPrefix: string;
}

export interface OpenAuditSources extends AuditSources {
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 5_000;

export async function openAuditSources(services: AuditServices, log: Logger, extra: Pick<AuditSources, 'concurrency' | 'progress'> = {}): Promise<OpenAuditSources> {
  const [kafka, redisUp, dynamo] = await Promise.all([
    kafkaHealthy(services.brokers, HEALTH_TIMEOUT_MS),
    redisHealthy(services.redis, HEALTH_TIMEOUT_MS),
    dynamodbHealthy(services.dynamodbEndpoint, HEALTH_TIMEOUT_MS),
  ]);
  const down = [
    ...(kafka ? [] : [`Kafka at ${services.brokers}`]),
    ...(redisUp ? [] : [`Redis at ${services.redis}`]),
    ...(dynamo ? [] : [`DynamoDB at ${services.dynamodbEndpoint}`]),
  ];
  if (down.length > 0) throw new ServiceUnavailableError(`not answering: ${down.join(', ')}`);
  const prefix = services.topicPrefix;
  const driver = new PlatformaticKafkaDriver({ brokers: services.brokers, clientId: 'votestream-audit' });
  const dynamodb = dynamoClient(services.dynamodbEndpoint);
  // Bounded retries: an audit must fail rather than hang when Redis goes away half-way.
  const redis = new Redis(services.redis, { maxRetriesPerRequest: 3, retryStrategy: (times) => (times > 10 ? null : 200), connectionName: 'votestream-audit' });
  redis.on('error', (err: unknown) => log.debug({ err }, 'audit: Redis connection error'));
  const close = async () => {
    dynamodb.destroy();
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  };
  try {
    const table = tableNames(prefix).votes;
    try {
      await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw new ConfigError(`DynamoDB table ${table} does not exist (run \`votestream init\`?)`);
      throw err;
    }
    const topic = topicNames(prefix).votesAccepted;
    const admin = driver.createAdmin({ clientId: 'votestream-audit-admin' });
    const partitions = await admin
      .partitionCounts([topic])
      .then((counts) => counts.get(topic) ?? 0)
      .catch((err: unknown) => {
        throw new ConfigError(`topic ${topic} is missing (run \`votestream init\`?): ${(err as Error).message}`);
      })
      .finally(() => admin.close());
    return { driver, dynamodb, redis, prefix, partitions, ...extra, close };
  } catch (err) {
    await close();
    throw err;
  }
}
