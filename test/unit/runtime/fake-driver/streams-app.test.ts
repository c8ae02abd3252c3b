import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCluster, FakeKafkaDriver } from '../../../../runtime/kafka/fake/index.js';
import { createLogger } from '../../../../runtime/logger.js';
import { StreamsApp } from '../../../../runtime/streams-app.js';
import { itemTopology, produceItems, valuesOf, type Seen } from './thread-harness.js';

/**
 * The whole app on the fake driver: StreamsApp checks the source topics and creates the internal
 * ones through the driver's admin, starts its thread, and closes with a final commit. (The app has
 * no clock option, so this one runs on the system clock and waits on cluster events only.)
 */

let app: StreamsApp | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  app = undefined;
  stateDir = undefined;
});

describe('StreamsApp on the fake driver', () => {
  it('refuses missing source topics, creates the dead-letter topic, processes and commits', async () => {
    const cluster = new FakeCluster();
    const driver = new FakeKafkaDriver({ cluster, name: 'app-1' });
    const seen: Seen = [];
    stateDir = mkdtempSync(join(tmpdir(), 'vs-fake-app-'));
    const config = { applicationId: 'app', brokers: 'fake:9092', stateDir, commitIntervalMs: 100, processingExceptionHandler: 'dead-letter' as const };
    const options = { driver, logger: createLogger({ level: 'silent' }) };

    const early = new StreamsApp(itemTopology(seen), config, options);
    await expect(early.start()).rejects.toThrow(/source topics of the topology are missing/);
    expect(early.state).toBe('failed');

    cluster.createTopic('in', 3);
    cluster.createTopic('out', 1);
    app = new StreamsApp(itemTopology(seen), config, options);
    await app.start();
    expect(cluster.partitionCount('in-dlq')).toBe(3);
    await produceItems(driver, 2, ['x', 'poison', 'y']);
    await cluster.until(() => cluster.groupIds().length === 1, { description: 'the thread to join its group' });
    const [group] = cluster.groupIds();
    expect(group).toMatch(/^app-/);
    await cluster.until(() => cluster.committedOffset(group, { topic: 'in', partition: 2 }) === 3n, { description: 'the app to commit' });
    expect(app.assignment()).toEqual({ 0: [0, 1, 2] });
    expect(valuesOf(cluster.records('out'))).toEqual(['X', 'Y']);
    expect(valuesOf(cluster.records('in-dlq'))).toEqual(['{"n":"poison"}']);
    await app.close();
    expect(cluster.groupView(group).members).toEqual([]);
  });
});
