/**
 * The final-recount scheduler with the connections it needs, as a worker runs it (role `audit`):
 * its own Kafka driver, DynamoDB client and Redis connection, all closed with it. None of them
 * is needed to start: an outage only delays the scheduler (it retries), never fails the worker.
 */
import type { Registry } from 'prom-client';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { createKafkaDriver, type KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import { createRedisClient } from '../../sinks/redis-client.js';
import type { Logger } from '../../runtime/logger.js';
import { tableNames } from '../topics.js';
import { FinalRecountScheduler } from './final-recount-scheduler.js';
import type { NoteSigner } from './signed-note.js';

export interface FinalRecountServiceOptions {
  readonly brokers: string;
  /** The Kafka client; platformatic unless given. */
  readonly driver?: KafkaDriverName;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly prefix: string;
  readonly signer: NoteSigner;
  readonly deployment: string;
  readonly closeGraceMs: number;
  readonly logger: Logger;
  readonly registry?: Registry;
}

export interface FinalRecountService {
  readonly scheduler: FinalRecountScheduler;
  close(): Promise<void>;
}

export function startFinalRecountService(o: FinalRecountServiceOptions): FinalRecountService {
  const driver = createKafkaDriver(o.driver ?? 'platformatic', { brokers: o.brokers, clientId: 'votestream-audit' });
  const dynamodb = dynamoClient(o.dynamodbEndpoint);
  const redis = createRedisClient(o.redis, { maxRetriesPerRequest: 3, retryStrategy: (times) => Math.min(200 * times, 5_000), connectionName: 'votestream-final-recount' });
  let lastRedisError = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastRedisError < 10_000) return;
    lastRedisError = Date.now();
    o.logger.warn({ err: err.message }, 'final recount: redis connection error');
  });
  const scheduler = new FinalRecountScheduler({
    driver,
    dynamodb,
    table: tableNames(o.prefix).votes,
    redis,
    prefix: o.prefix,
    signer: o.signer,
    deployment: o.deployment,
    closeGraceMs: o.closeGraceMs,
    logger: o.logger,
    ...(o.registry === undefined ? {} : { registry: o.registry }),
  });
  scheduler.start();
  return {
    scheduler,
    close: async () => {
      await scheduler.close();
      redis.disconnect();
      dynamodb.destroy();
    },
  };
}
