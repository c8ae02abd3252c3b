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

/** One broker among several is healthy when it answers a metadata request that lists itself (registered and unfenced). */
export async function kafkaNodeHealthy(address: string, nodeId: number, timeoutMs = 2000): Promise<boolean> {
  const admin = new Admin({ clientId: 'votestream-health', bootstrapBrokers: [address], timeout: timeoutMs, retries: 0 });
  try {
    const md = await admin.metadata({ topics: [] });
    return md.brokers.has(nodeId);
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** `CLUSTER INFO` of one Redis cluster node as name/value pairs, or undefined when it does not answer. */
export async function redisClusterInfo(url: string, timeoutMs = 2000): Promise<Map<string, string> | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const text = (await redis.call('CLUSTER', 'INFO')) as string;
    return new Map(text.split(/\r?\n/).flatMap((line) => {
      const at = line.indexOf(':');
      return at > 0 ? [[line.slice(0, at), line.slice(at + 1).trim()] as const] : [];
    }));
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
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
