import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { isAlive } from '../../infra/managed-process.js';
import { kafkaAddress, redisAddress, stackConfig } from '../../infra/stack-config.js';
import { killNode, nodeHealthy, stackNodes, startNode } from '../../infra/stack-nodes.js';
import { stackDown, stackNodeStatus, stackStatus, stackUp, type ServiceUpResult } from '../../infra/stack.js';
import { ConfigError } from '../../runtime/errors.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { ensureTopics } from '../../runtime/kafka/topic-admin.js';
import { provisionVoting } from '../../voting/provision.js';
import { topicNames } from '../../voting/topics.js';
import { runCli } from '../support/cli.js';
import { produce, readAll, testDriver } from '../support/kafka-io.js';
import { waitUntil } from '../support/poll.js';
import { services, uniquePrefix } from '../support/services.js';

/**
 * A replicated stack of its own (offset 600, its own data dir; DynamoDB is the shared one): three
 * KRaft brokers and a Redis cluster of three masters. Topics get three replicas and
 * min.insync.replicas=2, a broker killed with SIGKILL leaves produce and consume working and rejoins
 * the ISR when started again, and a Redis master killed and restarted comes back with its keys.
 */
describe('the replicated local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-stack-repl-'));
  const config = stackConfig({ dataDir, portOffset: 600, kafkaBrokers: 3, redisCluster: true });
  const brokers = kafkaAddress(config);
  const external = { dynamodb: services().dynamodbEndpoint };
  const prefix = uniquePrefix('repl');
  let up: Record<string, ServiceUpResult>;
  let driver: KafkaDriver;
  let admin: Admin;
  const pids: number[] = [];

  const partitionsOf = async (topic: string) => {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    return md.topics.get(topic)?.partitions ?? [];
  };
  const configOf = async (topic: string, key: string) => {
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [key] }] });
    return d?.configs.find((c) => c.name === key)?.value;
  };

  /** Brokers holding each partition's log: platformatic's metadata leaves internal topics out. */
  const replicasOnDisk = async (topic: string, partitions: number) => {
    const indexes = Array.from({ length: partitions }, (_, p) => p);
    const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions: indexes }] });
    return indexes.map((p) => dirs.filter((b) => b.results.some((r) => r.topics.some((t) => t.name === topic && t.partitions.some((x) => x.partitionIndex === p)))).length);
  };

  beforeAll(async () => {
    up = await stackUp(config, { external });
    pids.push(...(await stackNodeStatus(config)).flatMap((n) => (n.pid !== undefined ? [n.pid] : [])));
    driver = testDriver(brokers);
    admin = new Admin({ clientId: 'repl-test', bootstrapBrokers: brokers.split(','), timeout: 15_000, retries: 10, retryDelay: 500 });
  }, 400_000);

  afterAll(async () => {
    // Stop every node even when a test failed half-way (a node left paused or killed included).
    await admin?.close().catch(() => undefined);
    await stackDown(config);
    rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);

  it('comes up with three brokers and three Redis masters, at the layout ports, and remembers its layout', async () => {
    expect(up.kafka.action).toBe('started');
    expect(up.kafka.address).toBe('127.0.0.1:19692,127.0.0.1:19694,127.0.0.1:19696');
    expect(up.redis.address).toBe('redis+cluster://127.0.0.1:16979,127.0.0.1:16980,127.0.0.1:16981');
    expect(redisAddress(config)).toBe(up.redis.address);
    expect(up.dynamodb.action).toBe('external');
    expect(stackNodes(config).map((n) => [n.name, n.service, n.address])).toEqual([
      ['kafka-1', 'kafka', '127.0.0.1:19692'],
      ['kafka-2', 'kafka', '127.0.0.1:19694'],
      ['kafka-3', 'kafka', '127.0.0.1:19696'],
      ['redis-1', 'redis', 'redis://127.0.0.1:16979'],
      ['redis-2', 'redis', 'redis://127.0.0.1:16980'],
      ['redis-3', 'redis', 'redis://127.0.0.1:16981'],
      ['dynamodb', 'dynamodb', 'http://127.0.0.1:18600'],
    ]);
    expect(pids).toHaveLength(6);
    const status = await stackStatus(config, { external });
    expect([status.kafka.healthy, status.redis.healthy, status.dynamodb.healthy]).toEqual([true, true, true]);
    expect((await admin.metadata({ topics: [] })).brokers.size).toBe(3);

    // Another layout on this data dir is refused before anything starts (offset 700: nothing of ours there).
    await expect(stackUp(stackConfig({ dataDir, portOffset: 700 }), { external })).rejects.toBeInstanceOf(ConfigError);
    const cli = runCli(['stack', 'up', '--data-dir', dataDir, '--kafka-brokers', '1']);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toContain('holds a stack of 3 Kafka brokers, a Redis cluster, but 1 Kafka broker, a Redis cluster was asked for');
  }, 120_000);

  it('init-style provisioning and runtime-created topics get three replicas and min.insync.replicas=2', async () => {
    const dynamodb = dynamoClient(external.dynamodb);
    try {
      const result = await provisionVoting({ brokers, dynamodb, prefix, partitions: 3 });
      expect(result.topics.created).toHaveLength(6);
    } finally {
      dynamodb.destroy();
    }
    const names = topicNames(prefix);
    for (const topic of [names.votes, names.votesAccepted, names.votersChangelog, names.elections]) {
      const parts = await partitionsOf(topic);
      expect(parts.length).toBe(topic === names.elections ? 1 : 3);
      expect(parts.map((p) => p.replicas.length)).toEqual(parts.map(() => 3));
      expect(await configOf(topic, 'min.insync.replicas')).toBe('2');
    }
    // What the runtime creates (changelogs, repartition topics) names no replication factor.
    const internal = `${prefix}app-store-changelog`;
    await ensureTopics(brokers, [{ name: internal, partitions: 2, configs: { 'cleanup.policy': 'compact' } }]);
    expect((await partitionsOf(internal)).map((p) => p.replicas.length)).toEqual([3, 3]);
    expect(await configOf(internal, 'min.insync.replicas')).toBe('2');
  }, 120_000);

  it('the internal topics have three replicas; a transaction commits and is read read_committed', async () => {
    // stack up waited for the group and transaction coordinators, so both topics exist already.
    expect(await replicasOnDisk('__transaction_state', 12)).toEqual(Array.from({ length: 12 }, () => 3));
    expect(await replicasOnDisk('__consumer_offsets', 12)).toEqual(Array.from({ length: 12 }, () => 3));
    const topic = topicNames(prefix).votesAccepted;
    const producer = await driver.createTransactionalProducer({ transactionalId: `${prefix}tx` });
    try {
      await producer.begin();
      await producer.send(Array.from({ length: 30 }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })));
      await producer.commit();
    } finally {
      await producer.close();
    }
    const read = await readAll(driver, topic, 30);
    expect(read.map((r) => r.value?.toString()).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
  }, 180_000);

  it('with one broker killed -9, acks=all produce and consume still work; started again, it rejoins the ISR', async () => {
    const topic = topicNames(prefix).votes;
    expect(await killNode(config, 'kafka-3', 'SIGKILL')).toBe(true);
    expect(await nodeHealthy(config, 'kafka-3')).toBe(false);
    // The controller fences the lost broker (session timeout) and moves its leaderships.
    await waitUntil(async () => (await partitionsOf(topic)).every((p) => p.leader !== 3 && p.leader >= 0 && p.isr.length === 2), 'broker 3 out of every ISR', {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    const records = Array.from({ length: 60 }, (_, i) => ({ topic, key: Buffer.from(`voter-${i}`), value: Buffer.from(`vote-${i}`) }));
    await produce(driver, records);
    const read = await readAll(driver, topic, 60);
    expect(read.map((r) => r.value?.toString()).sort()).toEqual(records.map((r) => r.value.toString()).sort());

    await startNode(config, 'kafka-3');
    expect(await nodeHealthy(config, 'kafka-3')).toBe(true);
    await waitUntil(async () => (await partitionsOf(topic)).every((p) => p.isr.length === 3), 'broker 3 back in every ISR of the votes topic', {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect((await partitionsOf(topic)).map((p) => [...p.isr].sort())).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(await readAll(driver, topic, 60)).toHaveLength(60);
  }, 300_000);

  it('the Redis cluster covers every slot with three masters; a master killed -9 and started again keeps its keys (AOF)', async () => {
    const nodeUrls = stackNodes(config).filter((n) => n.service === 'redis').map((n) => n.address);
    for (const url of nodeUrls) {
      const redis = new Redis(url);
      try {
        const info = (await redis.call('CLUSTER', 'INFO')) as string;
        expect(info).toContain('cluster_state:ok');
        expect(info).toContain('cluster_slots_assigned:16384');
        expect(info).toContain('cluster_known_nodes:3');
        expect(info).toContain('cluster_size:3');
      } finally {
        redis.disconnect();
      }
    }
    const seeds = config.redis.ports.map((port) => ({ host: config.redis.host, port }));
    const writer = new Cluster(seeds);
    const keys = Array.from({ length: 90 }, (_, i) => `${prefix}key-${i}`);
    try {
      for (const key of keys) await writer.set(key, `value-of-${key}`);
    } finally {
      writer.disconnect();
    }
    const node2 = new Redis(nodeUrls[1]);
    let onNode2: number;
    try {
      onNode2 = (await node2.keys(`${prefix}*`)).length;
      // Written to the AOF file (the OS keeps it through a kill -9), not only in Redis' buffer.
      await waitUntil(async () => /aof_buffer_length:0\r?\n/.test((await node2.info('persistence')) as string), 'the AOF buffer of redis-2 to be written');
    } finally {
      node2.disconnect();
    }
    expect(onNode2).toBeGreaterThan(0);

    expect(await killNode(config, 'redis-2', 'SIGKILL')).toBe(true);
    expect(await nodeHealthy(config, 'redis-2')).toBe(false);
    await startNode(config, 'redis-2');
    expect(await nodeHealthy(config, 'redis-2')).toBe(true);

    const reader = new Cluster(seeds);
    try {
      const values = await Promise.all(keys.map((key) => reader.get(key)));
      expect(values).toEqual(keys.map((key) => `value-of-${key}`));
    } finally {
      reader.disconnect();
    }
    const again = new Redis(nodeUrls[1]);
    try {
      expect((await again.keys(`${prefix}*`)).length).toBe(onNode2);
    } finally {
      again.disconnect();
    }
  }, 120_000);

  it('stack down stops every node', async () => {
    const running = (await stackNodeStatus(config)).flatMap((n) => (n.pid !== undefined ? [n.pid] : []));
    expect(running).toHaveLength(6);
    expect(await stackDown(config)).toEqual({ kafka: true, redis: true, dynamodb: false });
    expect(running.map(isAlive)).toEqual(running.map(() => false));
    expect(pids.filter(isAlive)).toEqual([]);
    expect((await stackNodeStatus(config)).filter((n) => n.service !== 'dynamodb').map((n) => [n.name, n.healthy, n.pid])).toEqual([
      ['kafka-1', false, undefined],
      ['kafka-2', false, undefined],
      ['kafka-3', false, undefined],
      ['redis-1', false, undefined],
      ['redis-2', false, undefined],
      ['redis-3', false, undefined],
    ]);
  }, 120_000);
});

/**
 * The chaos tests' other Redis failure: the single node restarted with its AOF (keys kept) and
 * restarted wiped (everything lost). A stack of its own at offset 700 where only Redis is ours.
 */
describe('a single Redis node of the stack, restarted with and without its data', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-stack-redis-'));
  const config = stackConfig({ dataDir, portOffset: 700 });
  const external = { kafka: services().brokers, dynamodb: services().dynamodbEndpoint };

  beforeAll(async () => {
    await stackUp(config, { external });
  }, 60_000);

  afterAll(async () => {
    await stackDown(config);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const keysAfterRestart = async (wipe: boolean): Promise<string[]> => {
    expect(await killNode(config, 'redis', 'SIGKILL')).toBe(true);
    expect(await nodeHealthy(config, 'redis')).toBe(false);
    await startNode(config, 'redis', { wipe });
    const redis = new Redis(redisAddress(config));
    try {
      return (await redis.keys('*')).sort();
    } finally {
      redis.disconnect();
    }
  };

  it('keeps its keys through kill -9 and a restart, and loses them all when started with wipe', async () => {
    expect(stackNodes(config).map((n) => n.name)).toEqual(['kafka', 'redis', 'dynamodb']);
    const redis = new Redis(redisAddress(config));
    try {
      await redis.mset('a', '1', 'b', '2', 'c', '3');
      await waitUntil(async () => /aof_buffer_length:0\r?\n/.test(await redis.info('persistence')), 'the AOF buffer to be written');
    } finally {
      redis.disconnect();
    }
    expect(await keysAfterRestart(false)).toEqual(['a', 'b', 'c']);
    expect(await keysAfterRestart(true)).toEqual([]);
    expect(await nodeHealthy(config, 'redis')).toBe(true);
    await expect(startNode(config, 'kafka', { wipe: true })).rejects.toBeInstanceOf(ConfigError);
  }, 60_000);
});
