import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamsApp } from '../../../runtime/streams-app.js';
import { createLogger } from '../../../runtime/logger.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { produce, readAll, TEST_DRIVER, testDriver, waitForGroupAtEnd } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

function dedupTopology(input: string, output: string, dupes: string) {
  const builder = new StreamsBuilder();
  builder.addStateStore({ name: 'seen', valueSerde: Serdes.string() });
  const { accepted, duplicates } = builder
    .stream(input, { key: Serdes.string(), value: Serdes.string() })
    .dedupe({ key: (k) => k, store: 'seen', storeValue: (_k, v) => v });
  accepted.to(output);
  duplicates.to(dupes);
  return builder.build();
}

describe('StreamsApp (exactly_once_v2) on the real broker', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-app-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('dedupes exactly, commits in transactions, and a clean restart restores nothing and remembers everything', async () => {
    const { brokers } = services();
    const p = uniquePrefix('app');
    const [input, output, dupes] = [`${p}in`, `${p}out`, `${p}dupes`];
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([input, output, dupes].map((name) => ({ name, partitions: 4, replicationFactor: 1, configs: {} })));
    await admin.close();

    // 2,000 records over 1,500 keys: the first of each key passes, 500 are duplicates.
    const records = Array.from({ length: 2000 }, (_, i) => ({ topic: input, key: Buffer.from(`u${i % 1500}`), value: Buffer.from(`v${i}`) }));
    await produce(driver, records);

    const logger = createLogger({ level: 'warn' });
    const config = { applicationId: `${p}app`, brokers, stateDir, commitIntervalMs: 100, driver: TEST_DRIVER };
    const topology = dedupTopology(input, output, dupes);
    // The group is named after the first source node (`<applicationId>-<source>`).
    const groupId = `${config.applicationId}-${topology.subTopologies[0].nodes.find((n) => n.kind === 'source')!.name}`;
    const app = new StreamsApp(topology, config, { logger });
    await app.start();
    await waitForGroupAtEnd(driver, groupId, input);
    await app.close();
    const accepted = await readAll(driver, output, 1500);
    const rejected = await readAll(driver, dupes, 500);

    expect(accepted.map((r) => `${r.key}=${r.value}`).sort()).toEqual(Array.from({ length: 1500 }, (_, i) => `u${i}=v${i}`).sort());
    expect(rejected.map((r) => `${r.key}=${r.value}`).sort()).toEqual(Array.from({ length: 500 }, (_, i) => `u${i}=v${i + 1500}`).sort());
    const changelog = await readAll(driver, `${p}app-seen-changelog`, 1500);
    expect(changelog.length).toBe(1500);

    // Restart on the same state: 100 more records of known keys are all duplicates.
    await produce(driver, Array.from({ length: 100 }, (_, i) => ({ topic: input, key: Buffer.from(`u${i}`), value: Buffer.from(`w${i}`) })));
    const restarted = new StreamsApp(dedupTopology(input, output, dupes), config, { logger });
    await restarted.start();
    await waitForGroupAtEnd(driver, groupId, input);
    await restarted.close();
    const rejected2 = await readAll(driver, dupes, 600);
    expect(rejected2.length).toBe(600);
    expect((await readAll(driver, output, 1500)).length).toBe(1500);
    const restoredMetric = (await restarted.registry.getSingleMetricAsString('votestream_restored_records_total')).split('\n').filter((l) => !l.startsWith('#'));
    expect(restoredMetric).toEqual([]);
    // Records in, per task, add up to exactly what the first run consumed.
    const recordsIn = (await app.registry.getMetricsAsJSON()).find((m) => m.name === 'votestream_task_records_in_total')!;
    const perTask = (recordsIn as unknown as { values: { value: number; labels: { task: string } }[] }).values;
    expect(perTask.reduce((n, v) => n + v.value, 0)).toBe(2000);
    expect(perTask.every((v) => /^0_[0-3]$/.test(v.labels.task))).toBe(true);
  });

  it('dead-letters a record whose processing throws, with its reason, and goes on', async () => {
    const { brokers } = services();
    const p = uniquePrefix('poison');
    const [input, output] = [`${p}in`, `${p}out`];
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([input, output, `${input}-dlq`].map((name) => ({ name, partitions: 2, replicationFactor: 1, configs: {} })));
    await admin.close();
    const builder = new StreamsBuilder();
    builder
      .stream(input, { key: Serdes.string(), value: Serdes.string() })
      .mapValues((v) => {
        if (v === 'poison') throw new Error('cannot digest poison');
        return v.toUpperCase();
      })
      .to(output, { value: Serdes.string() });
    await produce(driver, ['a', 'poison', 'b'].map((v, i) => ({ topic: input, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(v) })));
    const topology = builder.build();
    const app = new StreamsApp(topology, { applicationId: `${p}app`, brokers, stateDir, processingExceptionHandler: 'dead-letter', driver: TEST_DRIVER }, { logger: createLogger({ level: 'silent' }) });
    await app.start();
    await waitForGroupAtEnd(driver, `${p}app-${topology.subTopologies[0].nodes.find((n) => n.kind === 'source')!.name}`, input);
    await app.close();
    const out = await readAll(driver, output, 2);
    const dlq = await readAll(driver, `${input}-dlq`, 1);
    expect(out.map((r) => r.value!.toString())).toEqual(['A', 'B']);
    expect(dlq.map((r) => [r.key!.toString(), r.value!.toString(), Object.fromEntries(r.headers.map(([k, v]) => [k, v.toString()]))])).toEqual([
      ['k1', 'poison', { error: 'cannot digest poison', 'source-topic': input, 'source-partition': '0', 'source-offset': '1' }],
    ]);
  });

  it('refuses to start a sub-topology whose source topics are not co-partitioned', async () => {
    const { brokers } = services();
    const p = uniquePrefix('copart');
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([
      { name: `${p}a`, partitions: 2, replicationFactor: 1, configs: {} },
      { name: `${p}b`, partitions: 3, replicationFactor: 1, configs: {} },
    ]);
    await admin.close();
    const builder = new StreamsBuilder();
    builder.stream([`${p}a`, `${p}b`], { key: Serdes.string(), value: Serdes.string() }).to(`${p}a`);
    const app = new StreamsApp(builder.build(), { applicationId: `${p}app`, brokers, stateDir, driver: TEST_DRIVER }, { logger: createLogger({ level: 'silent' }) });
    await expect(app.start()).rejects.toThrow(
      `sub-topology 0 reads topics that are not co-partitioned: ${p}a (2), ${p}b (3); give them the same partition count`,
    );
    expect(app.state).toBe('failed');
  });
});
