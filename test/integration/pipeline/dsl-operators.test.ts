import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/logger.js';
import { partitionForKey } from '../../../runtime/partitioner.js';
import { StreamsApp } from '../../../runtime/streams-app.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';
import type { Topology } from '../../../topology/topology.js';
import { produce, readAll, TEST_DRIVER, testDriver, waitForGroupAtEnd } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

const str = Serdes.string();

function groupOf(applicationId: string, topology: Topology, sub: number): string {
  return `${applicationId}-${topology.subTopologies[sub].nodes.find((n) => n.kind === 'source')!.name}`;
}

/**
 * clicks (key: user, value: page) joined with the users table (key: user, value: country), re-keyed
 * by country, repartitioned into 3 partitions, written to one topic per country.
 */
function clicksByCountry(p: string): Topology {
  const builder = new StreamsBuilder();
  const users = builder.table(`${p}users`, { key: str, value: str, materialized: { name: 'users' } });
  builder
    .stream(`${p}clicks`, { key: str, value: str })
    .join(users, (page, country, user) => `${user}:${page}@${country}`)
    .selectKey((_user, joined) => joined.slice(joined.indexOf('@') + 1))
    .repartition({ name: 'by-country', key: str, value: str, numberOfPartitions: 3 })
    .to((country) => `${p}country-${country}`);
  return builder.build();
}

describe('DSL operators on the real broker: repartition(), to(extractor), stream-table join', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-dsl-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('joins clicks with the users table, repartitions by country into 3 partitions and writes one topic per country', async () => {
    const { brokers } = services();
    const p = uniquePrefix('dsl');
    const applicationId = `${p}app`;
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    // Dynamic topics are not created by the runtime (as in Kafka Streams): they must exist.
    await admin.ensureTopics(
      [`${p}clicks`, `${p}users`, `${p}country-fr`, `${p}country-de`].map((name) => ({ name, partitions: 2, replicationFactor: 1, configs: {} })),
    );
    await admin.close();

    const topology = clicksByCountry(p);
    const app = new StreamsApp(topology, { applicationId, brokers, stateDir, commitIntervalMs: 100, driver: TEST_DRIVER }, { logger: createLogger({ level: 'warn' }) });
    // The table first, and fully processed, so that the join's result does not depend on poll order.
    await produce(driver, [
      { topic: `${p}users`, key: Buffer.from('ana'), value: Buffer.from('fr'), timestamp: 1_000 },
      { topic: `${p}users`, key: Buffer.from('bob'), value: Buffer.from('de'), timestamp: 1_000 },
      { topic: `${p}users`, key: Buffer.from('eve'), value: Buffer.from('fr'), timestamp: 1_000 },
      { topic: `${p}users`, key: Buffer.from('eve'), value: null, timestamp: 1_001 },
    ]);
    await app.start();
    await waitForGroupAtEnd(driver, groupOf(applicationId, topology, 0), `${p}users`);
    await produce(driver, [
      { topic: `${p}clicks`, key: Buffer.from('ana'), value: Buffer.from('/a'), timestamp: 2_000 },
      { topic: `${p}clicks`, key: Buffer.from('bob'), value: Buffer.from('/b'), timestamp: 2_001 },
      { topic: `${p}clicks`, key: Buffer.from('eve'), value: Buffer.from('/e'), timestamp: 2_002 }, // deleted user: dropped
      { topic: `${p}clicks`, key: Buffer.from('zoe'), value: Buffer.from('/z'), timestamp: 2_003 }, // unknown user: dropped
      { topic: `${p}clicks`, key: Buffer.from('ana'), value: Buffer.from('/c'), timestamp: 2_004 },
    ]);
    await waitForGroupAtEnd(driver, groupOf(applicationId, topology, 0), `${p}clicks`);
    // The repartition topic is written in transactions (its end is past a commit marker that no
    // committed offset reaches): wait for the outputs instead, then read them again once stopped.
    await readAll(driver, `${p}country-fr`, 2);
    await readAll(driver, `${p}country-de`, 1);
    await app.close();

    const repartitionTopic = `${applicationId}-by-country-repartition`;
    const check = driver.createAdmin();
    const counts = await check.partitionCounts([repartitionTopic, `${applicationId}-users-changelog`]);
    await check.close();
    expect([counts.get(repartitionTopic), counts.get(`${applicationId}-users-changelog`)]).toEqual([3, 2]);

    const through = await readAll(driver, repartitionTopic, 3);
    expect(
      through.map((r) => [r.key!.toString(), r.value!.toString(), r.partition, r.timestamp]).sort((a, b) => Number(a[3]) - Number(b[3])),
    ).toEqual([
      ['fr', 'ana:/a@fr', partitionForKey(Buffer.from('fr'), 3), 2_000],
      ['de', 'bob:/b@de', partitionForKey(Buffer.from('de'), 3), 2_001],
      ['fr', 'ana:/c@fr', partitionForKey(Buffer.from('fr'), 3), 2_004],
    ]);
    const fr = await readAll(driver, `${p}country-fr`, 2);
    const de = await readAll(driver, `${p}country-de`, 1);
    expect(fr.map((r) => [r.key!.toString(), r.value!.toString(), r.timestamp])).toEqual([
      ['fr', 'ana:/a@fr', 2_000],
      ['fr', 'ana:/c@fr', 2_004],
    ]);
    expect(de.map((r) => [r.key!.toString(), r.value!.toString(), r.timestamp])).toEqual([['de', 'bob:/b@de', 2_001]]);
  });

  it('refuses to start a stream-table join whose topics are not co-partitioned', async () => {
    const { brokers } = services();
    const p = uniquePrefix('dslcopart');
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([
      { name: `${p}clicks`, partitions: 2, replicationFactor: 1, configs: {} },
      { name: `${p}users`, partitions: 3, replicationFactor: 1, configs: {} },
    ]);
    await admin.close();
    const builder = new StreamsBuilder();
    const users = builder.table(`${p}users`, { key: str, value: str });
    builder.stream(`${p}clicks`, { key: str, value: str }).join(users, (page, country) => `${page}@${country}`).to(`${p}clicks`, { value: str });
    const app = new StreamsApp(builder.build(), { applicationId: `${p}app`, brokers, stateDir, driver: TEST_DRIVER }, { logger: createLogger({ level: 'silent' }) });
    await expect(app.start()).rejects.toThrow(
      `sub-topology 0 reads topics that are not co-partitioned: ${p}users (3), ${p}clicks (2); give them the same partition count`,
    );
  });

  it('refuses a repartition whose numberOfPartitions differs from the table it is joined with', async () => {
    const { brokers } = services();
    const p = uniquePrefix('dslrepart');
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([`${p}clicks`, `${p}users`].map((name) => ({ name, partitions: 2, replicationFactor: 1, configs: {} })));
    await admin.close();
    const builder = new StreamsBuilder();
    const users = builder.table(`${p}users`, { key: str, value: str });
    builder
      .stream(`${p}clicks`, { key: str, value: str })
      .repartition({ name: 'r', numberOfPartitions: 3 })
      .join(users, (page, country) => `${page}@${country}`)
      .to(`${p}clicks`, { value: str });
    const app = new StreamsApp(builder.build(), { applicationId: `${p}app`, brokers, stateDir, driver: TEST_DRIVER }, { logger: createLogger({ level: 'silent' }) });
    await expect(app.start()).rejects.toThrow(
      `sub-topology 0 reads topics that are not co-partitioned: ${p}users (2), ${p}app-r-repartition (3); give them the same partition count`,
    );
  });
});
