/**
 * The replicated stack's shape (issue 15): ports per node, the addresses clients get, the layout a
 * data dir remembers, and the one replication rule every topic is created with.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaAddress, redisAddress, stackConfig } from '../../../infra/stack-config.js';
import { claimLayout, readLayout, resolveLayout } from '../../../infra/stack-layout.js';
import { stackNodes } from '../../../infra/stack-nodes.js';
import { ConfigError } from '../../../runtime/errors.js';
import { replicationFor } from '../../../runtime/kafka/replication.js';

describe('the stack layout', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vs-layout-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the single-node ports and names, and gives node i of a replicated stack its own ports', () => {
    const single = stackConfig({ dataDir: '/x' });
    expect([kafkaAddress(single), redisAddress(single), single.kafka.controllerPort, single.kafka.heapMb]).toEqual(['127.0.0.1:19092', 'redis://127.0.0.1:16379', 19093, 1024]);
    expect(stackNodes(single).map((n) => [n.name, n.address, n.pidFile])).toEqual([
      ['kafka', '127.0.0.1:19092', '/x/kafka/kafka.pid'],
      ['redis', 'redis://127.0.0.1:16379', '/x/redis/redis.pid'],
      ['dynamodb', 'http://127.0.0.1:18000', '/x/dynamodb/dynamodb.pid'],
    ]);
    const repl = stackConfig({ dataDir: '/x', portOffset: 10, kafkaBrokers: 3, redisCluster: true });
    expect(repl.kafka.nodes).toEqual([
      { id: 1, port: 19102, controllerPort: 19103 },
      { id: 2, port: 19104, controllerPort: 19105 },
      { id: 3, port: 19106, controllerPort: 19107 },
    ]);
    expect([kafkaAddress(repl), redisAddress(repl), repl.kafka.heapMb]).toEqual([
      '127.0.0.1:19102,127.0.0.1:19104,127.0.0.1:19106',
      'redis+cluster://127.0.0.1:16389,127.0.0.1:16390,127.0.0.1:16391',
      512,
    ]);
    expect(stackNodes(repl).map((n) => [n.name, n.service, n.logFile])).toEqual([
      ['kafka-1', 'kafka', '/x/kafka-1/kafka.log'],
      ['kafka-2', 'kafka', '/x/kafka-2/kafka.log'],
      ['kafka-3', 'kafka', '/x/kafka-3/kafka.log'],
      ['redis-1', 'redis', '/x/redis-1/redis.log'],
      ['redis-2', 'redis', '/x/redis-2/redis.log'],
      ['redis-3', 'redis', '/x/redis-3/redis.log'],
      ['dynamodb', 'dynamodb', '/x/dynamodb/dynamodb.log'],
    ]);
    expect(() => stackConfig({ kafkaBrokers: 0 })).toThrow(ConfigError);
  });

  it('records the layout, refuses another one on the same data dir, and takes a data dir from before layouts as single-node', () => {
    const d = dir();
    expect(readLayout(d)).toBeUndefined();
    claimLayout(stackConfig({ dataDir: d, kafkaBrokers: 3, redisCluster: true }));
    expect(JSON.parse(readFileSync(join(d, 'layout.json'), 'utf8'))).toEqual({ kafkaBrokers: 3, redisCluster: true });
    expect(resolveLayout(d, {})).toEqual({ kafkaBrokers: 3, redisCluster: true });
    expect(resolveLayout(d, { redisCluster: false })).toEqual({ kafkaBrokers: 3, redisCluster: false });
    expect(() => claimLayout(stackConfig({ dataDir: d }))).toThrow(/holds a stack of 3 Kafka brokers, a Redis cluster, but 1 Kafka broker, one Redis was asked for/);
    claimLayout(stackConfig({ dataDir: d, kafkaBrokers: 3, redisCluster: true }));

    const old = dir();
    mkdirSync(join(old, 'kafka'));
    expect(readLayout(old)).toEqual({ kafkaBrokers: 1, redisCluster: false });
    expect(() => claimLayout(stackConfig({ dataDir: old, kafkaBrokers: 3 }))).toThrow(ConfigError);
  });

  it('replicates min(3, brokers) times, with min.insync.replicas 2 from three brokers on', () => {
    expect([1, 2, 3, 5].map((n) => replicationFor(n))).toEqual([
      { replicationFactor: 1, minInsyncReplicas: 1 },
      { replicationFactor: 2, minInsyncReplicas: 1 },
      { replicationFactor: 3, minInsyncReplicas: 2 },
      { replicationFactor: 3, minInsyncReplicas: 2 },
    ]);
  });
});
