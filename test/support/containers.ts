import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import type { TestServices } from './services.js';

/**
 * The same three services as the local stack, in Docker, for machines that have an engine.
 * Images match docker-compose.yml.
 */
export async function startContainers(): Promise<{ services: TestServices; stop: () => Promise<void> }> {
  const started: StartedTestContainer[] = [];
  try {
    const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage('Ready to accept connections')).start();
    started.push(redis);
    const dynamodb = await new GenericContainer('amazon/dynamodb-local:latest')
      .withCommand(['-jar', 'DynamoDBLocal.jar', '-inMemory', '-sharedDb'])
      .withExposedPorts(8000)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    started.push(dynamodb);
    // Kafka advertises the address clients use, so the host port must be known before it starts:
    // a fixed mapping on the local-stack default port.
    const kafka = await new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 19092, host: 19092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:19092,CONTROLLER://0.0.0.0:19093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:19092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:19093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    started.push(kafka);
    return {
      services: {
        brokers: '127.0.0.1:19092',
        redis: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
        dynamodbEndpoint: `http://${dynamodb.getHost()}:${dynamodb.getMappedPort(8000)}`,
        origin: 'testcontainers',
      },
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop().catch(() => undefined)));
    throw err;
  }
}
