import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { changelogTopicName } from '../statestores/changelogging-store.js';
import { diffStores, storeDigest, type StoreDifference, type StoreDigest } from '../statestores/digest.js';
import { LevelDbKeyValueStore } from '../statestores/leveldb-store.js';
import { createTaskStore } from '../statestores/store-stack.js';
import type { Topology } from '../topology/topology.js';
import { ConfigError } from './errors.js';
import type { KafkaDriver } from './kafka/driver.js';
import type { Logger } from './logger.js';
import { restoreStore } from './restore.js';
import { RuntimeMetrics } from './runtime-metrics.js';

export interface RebuildStoreOptions {
  readonly driver: KafkaDriver;
  readonly topology: Topology;
  readonly applicationId: string;
  readonly stateDir: string;
  readonly store: string;
  /** Default: every partition of the changelog. */
  readonly partitions?: readonly number[];
  /** Replace the live store with the rebuilt one where they differ. */
  readonly swap: boolean;
  readonly logger: Logger;
  readonly diffLimit?: number;
}

export interface PartitionRebuild {
  readonly partition: number;
  readonly live: StoreDigest & { readonly location: string; readonly exists: boolean };
  readonly rebuilt: StoreDigest & { readonly records: number; readonly ms: number };
  readonly identical: boolean;
  readonly differences: readonly StoreDifference<unknown>[];
  readonly truncated: boolean;
  readonly swapped: boolean;
  /** Where the rebuilt copy stays when it differs and was not swapped in; the old live copy after a swap. */
  readonly kept?: string;
}

/**
 * Rebuilds a store's partitions from its changelog into fresh directories and compares each with
 * the live store (entry count, digest, differing keys). The live store must not be in use (its
 * LevelDB lock says so). With `swap`, a differing live store is moved aside and replaced.
 */
export async function rebuildStore(o: RebuildStoreOptions): Promise<PartitionRebuild[]> {
  const sub = o.topology.subTopologies.find((s) => s.stores.some((st) => st.name === o.store));
  if (sub === undefined) {
    const known = o.topology.subTopologies.flatMap((s) => s.stores.map((st) => st.name));
    throw new ConfigError(`the topology has no store "${o.store}"; its stores: ${known.join(', ') || '(none)'}`);
  }
  const spec = sub.stores.find((st) => st.name === o.store)!;
  if (!spec.logged) throw new ConfigError(`store "${o.store}" has no changelog to rebuild from`);
  const topic = changelogTopicName(o.applicationId, o.store);
  const admin = o.driver.createAdmin({ clientId: 'rebuild-store' });
  const count = (await admin.partitionCounts([topic]).finally(() => admin.close())).get(topic)!;
  const partitions = o.partitions ?? Array.from({ length: count }, (_, p) => p);
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0 || p >= count) throw new ConfigError(`partition ${p} does not exist: ${topic} has ${count} partitions`);
  }
  const metrics = new RuntimeMetrics(new Registry());
  const reports: PartitionRebuild[] = [];
  for (const partition of partitions) {
    const taskId = `${sub.id}_${partition}`;
    const location = join(o.stateDir, o.applicationId, taskId, o.store);
    const fresh = `${location}.rebuild-${Date.now()}`;
    const rebuilt = createTaskStore<unknown>({ name: o.store, location: fresh, changelog: false });
    await rebuilt.open();
    const restored = await restoreStore({ driver: o.driver, store: rebuilt, serde: spec.valueSerde, topic, partition, taskId, metrics, logger: o.logger });
    await rebuilt.close();

    const exists = existsSync(location);
    const live = new LevelDbKeyValueStore<unknown>(o.store, exists ? location : `${fresh}.empty`);
    const copy = new LevelDbKeyValueStore<unknown>(o.store, fresh);
    await live.open();
    await copy.open();
    let report: PartitionRebuild;
    try {
      const [liveDigest, rebuiltDigest] = [await storeDigest(live), await storeDigest(copy)];
      const diff = await diffStores(live, copy, o.diffLimit ?? 20);
      const identical = liveDigest.sha256 === rebuiltDigest.sha256 && liveDigest.entries === rebuiltDigest.entries;
      report = {
        partition,
        live: { ...liveDigest, location, exists },
        rebuilt: { ...rebuiltDigest, records: restored.records, ms: restored.ms },
        identical,
        differences: diff.differences,
        truncated: diff.truncated,
        swapped: false,
      };
    } finally {
      await live.close();
      await copy.close();
      if (!exists) rmSync(`${fresh}.empty`, { recursive: true, force: true });
    }
    if (report.identical) {
      rmSync(fresh, { recursive: true, force: true });
    } else if (o.swap) {
      const aside = `${location}.replaced-${Date.now()}`;
      if (exists) renameSync(location, aside);
      renameSync(fresh, location);
      report = { ...report, swapped: true, ...(exists ? { kept: aside } : {}) };
    } else {
      report = { ...report, kept: fresh };
    }
    o.logger.info({ store: o.store, partition, identical: report.identical, swapped: report.swapped }, 'store partition rebuilt');
    reports.push(report);
  }
  return reports;
}
