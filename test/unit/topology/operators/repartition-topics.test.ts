import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCluster, FakeKafkaDriver } from '../../../../runtime/kafka/fake/index.js';
import { createLogger } from '../../../../runtime/logger.js';
import { StreamsApp } from '../../../../runtime/streams-app.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

// What StreamsApp creates for repartition() and a stream-table join, on the fake driver.
const str = Serdes.string();

let app: StreamsApp | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  app = undefined;
  stateDir = undefined;
});

describe('repartition topics created by StreamsApp', () => {
  it('follow the joined table, or their numberOfPartitions, or the largest source topic; changelogs follow their sub-topology', async () => {
    const cluster = new FakeCluster();
    cluster.createTopic('users', 4);
    cluster.createTopic('clicks', 8);
    cluster.createTopic('orders', 2);
    const builder = new StreamsBuilder();
    const users = builder.table('users', { key: str, value: str, materialized: { name: 'users' } });
    const clicks = builder.stream('clicks', { key: str, value: str, onDeserializationError: 'fail' });
    clicks
      .selectKey((_k, v) => v)
      .join(users, (v, u) => `${v}+${u}`, { name: 'enrich', key: str, value: str })
      .to('clicks', { value: str });
    builder
      .stream('orders', { key: str, value: str, onDeserializationError: 'fail' })
      .repartition({ name: 'wide', numberOfPartitions: 5 })
      .groupByKey()
      .count({ name: 'order-counts' });
    builder
      .stream('orders-copy', { key: str, value: str, onDeserializationError: 'fail' })
      .repartition({ name: 'default' })
      .to('orders-copy');
    cluster.createTopic('orders-copy', 1);
    stateDir = mkdtempSync(join(tmpdir(), 'vs-repartition-'));
    app = new StreamsApp(builder.build(), { applicationId: 'app', brokers: 'fake:9092', stateDir }, { driver: new FakeKafkaDriver({ cluster, name: 'app-1' }), logger: createLogger({ level: 'silent' }) });
    await app.start();
    expect({
      enrich: cluster.partitionCount('app-enrich-repartition'),
      usersChangelog: cluster.partitionCount('app-users-changelog'),
      wide: cluster.partitionCount('app-wide-repartition'),
      countsChangelog: cluster.partitionCount('app-order-counts-changelog'),
      default: cluster.partitionCount('app-default-repartition'),
    }).toEqual({ enrich: 4, usersChangelog: 4, wide: 5, countsChangelog: 5, default: 8 });
  });
});
