import type { TaskStore } from '../statestores/store-stack.js';
import type { Serde } from '../topology/serdes/serde.js';
import type { KafkaDriver } from './kafka/driver.js';
import type { Logger } from './logger.js';
import type { RuntimeMetrics } from './runtime-metrics.js';

export interface RestoreOptions {
  readonly driver: KafkaDriver;
  readonly store: TaskStore<unknown>;
  readonly serde: Serde<unknown> | undefined;
  readonly topic: string;
  readonly partition: number;
  readonly taskId: string;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
}

export interface RestoreResult {
  readonly records: number;
  readonly ms: number;
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Catches a task's store up with its changelog partition before the task processes anything:
 * from the offset LevelDB stored with its last committed batch (nothing, after a clean shutdown)
 * to the changelog's last stable offset, read_committed, in the reader's large batches.
 */
export async function restoreStore(o: RestoreOptions): Promise<RestoreResult> {
  const from = o.store.restoredOffset() ?? 0n;
  const labels = { store: o.store.name, task: o.taskId };
  const reader = await o.driver.createReader({
    partitions: [{ topic: o.topic, partition: o.partition, from }],
    isolation: 'read_committed',
    clientId: `restore-${o.taskId}`,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  const started = Date.now();
  try {
    const [end] = await reader.endOffsets();
    const to = end?.offset ?? from;
    if (to < from) {
      // The store says it holds changelog records that the changelog does not have: the topic was
      // deleted and recreated. What the store holds can no longer be trusted; rebuild it.
      o.logger.warn({ ...labels, topic: o.topic, partition: o.partition, stored: String(from), end: String(to) }, 'store is ahead of its changelog (changelog recreated?): wiping it and restoring from the beginning');
      await o.store.destroy();
      await o.store.open();
      return await restoreStore(o);
    }
    if (to === from) {
      o.metrics.restoreRemaining.set(labels, 0);
      return { records: 0, ms: 0, from, to };
    }
    o.logger.info({ ...labels, topic: o.topic, partition: o.partition, from: String(from), to: String(to) }, 'restoring store from changelog');
    let restored = 0;
    let lastLog = Date.now();
    await reader.readToEnd(async (batch) => {
      const records = batch.map((r) => ({
        key: r.key === null ? '' : r.key.toString('utf8'),
        value: r.value === null ? null : o.serde !== undefined ? o.serde.deserialize(o.topic, r.value) : (JSON.parse(r.value.toString('utf8')) as unknown),
        offset: r.offset,
      }));
      const last = batch.at(-1);
      await o.store.restoreBatch(records, last === undefined ? undefined : last.offset + 1n);
      restored += batch.length;
      o.metrics.restoredRecords.inc(labels, batch.length);
      const position = last === undefined ? from : last.offset + 1n;
      o.metrics.restoreRemaining.set(labels, Number(to > position ? to - position : 0n));
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        o.logger.info({ ...labels, restored, remaining: Number(to - position) }, 'restore progress');
      }
    });
    // Past the last record there may be transaction markers: remember the end so a clean restart reads nothing.
    await o.store.restoreBatch([], to);
    const ms = Date.now() - started;
    const rate = Math.round(restored / Math.max(ms / 1000, 0.001));
    o.metrics.restoreRate.set(labels, rate);
    o.metrics.restoreRemaining.set(labels, 0);
    o.logger.info({ ...labels, records: restored, ms, recordsPerSecond: rate }, 'store restored');
    return { records: restored, ms, from, to };
  } finally {
    await reader.close();
  }
}
