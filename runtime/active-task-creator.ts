import { join } from 'node:path';
import type { Sink, SinkProgress } from '../topology/sink.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { StoreOpenError } from '../statestores/errors.js';
import { createTaskStore, type TaskStore } from '../statestores/store-stack.js';
import { changelogTopicName as changelogTopic } from '../statestores/changelogging-store.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import { restoreStore } from './restore.js';
import { StreamTask } from './stream-task.js';
import type { ActiveTask, TaskManagerOptions } from './task-manager.js';

/**
 * Opens, restores and wires one task; `resume` is the lowest offset its sinks' own progress
 * resumes from, if they keep any. On any failure what it opened so far is closed again: a
 * LevelDB lock left behind would keep this very process from reopening the task.
 */
export async function createActiveTask(
  o: TaskManagerOptions,
  partition: number,
  openingSinks: Set<Sink<unknown, unknown>>,
): Promise<{ active: ActiveTask; resume: bigint | undefined }> {
  const { config, sub, registry, metrics, driver, globalStores, logger: log, clock } = o;
  const taskId = `${sub.id}_${partition}`;
  const stores: ActiveTask['stores'][number][] = [];
  const sinks = new Map<string, Sink<unknown, unknown>>();
  try {
    const storeMap = new Map<string, KeyValueStore<unknown>>();
    for (const spec of sub.stores) {
      const store = createTaskStore<unknown>({
        name: spec.name,
        location: join(config.stateDir, config.applicationId, taskId, spec.name),
        changelog: spec.logged,
        registry,
        taskId,
      });
      await openWhenUnlocked(store, log, clock, config.sessionTimeoutMs * 3);
      stores.push({ spec: { name: spec.name, logged: spec.logged, serde: spec.valueSerde }, store });
      storeMap.set(spec.name, store.store);
      if (spec.logged) {
        await restoreStore({
          driver,
          store,
          serde: spec.valueSerde,
          topic: changelogTopic(config.applicationId, spec.name),
          partition,
          taskId,
          metrics,
          logger: log,
        });
      }
    }
    for (const name of sub.globalStores) storeMap.set(name, globalStores.get(name)!);
    let resume: bigint | undefined;
    for (const node of sub.nodes) {
      if (node.kind !== 'external-sink') continue;
      const sink = node.sink.create();
      // Known before open() resolves: a sink whose service is down may retry its open until stop() closes it.
      openingSinks.add(sink);
      sinks.set(node.name, sink);
      let progress: SinkProgress | void;
      try {
        progress = await sink.open({ taskId, partition });
      } finally {
        openingSinks.delete(sink);
      }
      if (progress) {
        const next = progress.appliedThrough === null ? -1n : BigInt(progress.appliedThrough) + 1n;
        resume = resume === undefined || next < resume ? next : resume;
      }
    }
    const produced = { partition, count: 0, bytes: new Map<string, number>() };
    const task = new StreamTask({
      applicationId: config.applicationId,
      subTopology: sub,
      partition,
      stores: storeMap,
      collector: o.collector.forTask(produced),
      sinks,
      clock,
      logger: log,
      onDroppedRecord: () => metrics.droppedRecords.inc({ task: taskId }),
    });
    await task.init();
    // Sink progress is per partition of one input topic: it cannot place a task that reads several.
    return { active: { partition, task, stores, sinks: [...sinks.values()], dirty: false, produced }, resume: o.sourceTopics.length === 1 ? resume : undefined };
  } catch (err) {
    for (const sink of sinks.values()) await sink.close().catch(() => undefined);
    for (const { store } of stores) await store.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Opens a task's store, waiting while another process on the same state directory still holds
 * its LevelDB lock: after a rebalance the new owner can be told before the old one has closed.
 */
async function openWhenUnlocked(store: TaskStore<unknown>, log: Logger, clock: Clock, timeoutMs: number): Promise<void> {
  const deadline = clock.nowMs() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.open();
      return;
    } catch (err) {
      if (!(err instanceof StoreOpenError && err.locked) || clock.nowMs() > deadline) throw err;
      if (attempt === 1) log.info({ store: store.name }, 'store locked by its previous owner; waiting');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
