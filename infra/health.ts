import { Admin } from '@platformatic/kafka';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { dynamoClient } from './dynamo-client.js';

/** Kafka is healthy when a broker answers a metadata request. */
export async function kafkaHealthy(brokers: string, timeoutMs = 2000): Promise<boolean> {
  const admin = new Admin({
    clientId: 'votestream-health',
    bootstrapBrokers: brokers.split(','),
    timeout: timeoutMs,
    retries: 0,
  });
  try {
    const md = await admin.metadata({ topics: [] });
    return md.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Redis is healthy when it answers PING with PONG. */
export async function redisHealthy(url: string, timeoutMs = 2000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** DynamoDB (Local) is healthy when it answers ListTables. */
export async function dynamodbHealthy(endpoint: string, timeoutMs = 2000): Promise<boolean> {
  const client = dynamoClient(endpoint, { maxAttempts: 1, requestTimeoutMs: timeoutMs });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
