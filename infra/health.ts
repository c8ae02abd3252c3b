import { Admin } from '@platformatic/kafka';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { dynamoClient } from './dynamo-client.js';

/** The broker ids a metadata request through `brokers` lists, or undefined when none answers. */
async function kafkaBrokerIds(brokers: string, timeoutMs: number): Promise<Set<number> | undefined> {
  const admin = new Admin({ clientId: 'votestream-health', bootstrapBrokers: brokers.split(','), timeout: timeoutMs, retries: 0 });
  try {
    return new Set((await admin.metadata({ topics: [] })).brokers.keys());
  } catch {
    return undefined;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Kafka is healthy when a broker answers a metadata request. */
export async function kafkaHealthy(brokers: string, timeoutMs = 2000): Promise<boolean> {
  return ((await kafkaBrokerIds(brokers, timeoutMs))?.size ?? 0) > 0;
}

/** One broker among several is healthy when it answers a metadata request that lists itself (registered and unfenced). */
export async function kafkaNodeHealthy(address: string, nodeId: number, timeoutMs = 2000): Promise<boolean> {
  return (await kafkaBrokerIds(address, timeoutMs))?.has(nodeId) ?? false;
}

/** A one-shot connection that fails at once instead of retrying or queueing: a health probe. */
function probeClient(url: string, timeoutMs: number): Redis {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  return redis;
}

/** `CLUSTER INFO` of one Redis cluster node as name/value pairs, or undefined when it does not answer. */
export async function redisClusterInfo(url: string, timeoutMs = 2000): Promise<Map<string, string> | undefined> {
  const redis = probeClient(url, timeoutMs);
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

/**
 * Whether one cluster node sees `expected` nodes, each reachable over the cluster bus: no link
 * down, no `fail`/`pfail`/`handshake`/`noaddr` flag. `cluster_state:ok` comes back before a
 * restarted node's bus links do, and until they are up a PUBLISH on that node reaches no
 * subscriber on the others.
 */
export async function redisClusterLinksUp(url: string, expected: number, timeoutMs = 2000): Promise<boolean> {
  const redis = probeClient(url, timeoutMs);
  try {
    await redis.connect();
    const lines = ((await redis.call('CLUSTER', 'NODES')) as string).split(/\r?\n/).filter((line) => line.trim() !== '');
    return lines.length === expected && lines.every((line) => {
      const fields = line.split(' ');
      const flags = (fields[2] ?? '').split(',');
      return fields[7] === 'connected' && !flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr');
    });
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Redis is healthy when it answers PING with PONG. */
export async function redisHealthy(url: string, timeoutMs = 2000): Promise<boolean> {
  const redis = probeClient(url, timeoutMs);
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
