import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { ManualClock } from '../../../../runtime/clock.js';
import type { ConsumedRecord } from '../../../../runtime/kafka/driver.js';
import { FakeCluster, FakeKafkaDriver, type ClusterEvent } from '../../../../runtime/kafka/fake/index.js';
import { createLogger } from '../../../../runtime/logger.js';
import { RuntimeMetrics } from '../../../../runtime/runtime-metrics.js';
import { parseStreamsConfig, type StreamsConfigInput } from '../../../../runtime/streams-config.js';
import { StreamThread } from '../../../../runtime/stream-thread.js';
import type { Sink, SinkRecord, SinkSupplier } from '../../../../topology/sink.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import type { Topology } from '../../../../topology/topology.js';

/** A StreamThread (with its TaskManager and CommitStrategy) over a fake driver, a manual clock and a temp state dir. */

export const Item = z.object({ n: z.string() });
export type Item = z.infer<typeof Item>;

/** Every value a topology's peek saw, in order, per thread. */
export type Seen = string[];

/**
 * in -> peek (records what it sees) -> mapValues (upper case; throws for "poison") -> out, or to
 * `sink` when given (then the sub-topology writes no Kafka topic: sink-fenced mode).
 */
export function itemTopology(seen: Seen, sink?: SinkSupplier<string, string>): Topology {
  const builder = new StreamsBuilder();
  const upper = builder
    .stream('in', { key: Serdes.string(), value: Serdes.json(Item) })
    .peek((_, v) => void seen.push(v.n))
    .mapValues((v) => {
      if (v.n === 'poison') throw new Error(`cannot process ${v.n}`);
      return v.n.toUpperCase();
    });
  if (sink) upper.to(sink);
  else upper.to('out', { value: Serdes.string() });
  return builder.build();
}

/** The logged store of `dedupTopology`. */
export const DEDUP_STORE = 'seen-items';

/** in -> peek (records what it sees) -> dedupe by the item (logged store `seen-items`) -> upper case -> out. */
export function dedupTopology(seen: Seen): Topology {
  const builder = new StreamsBuilder();
  builder.addStateStore({ name: DEDUP_STORE });
  const { accepted } = builder
    .stream('in', { key: Serdes.string(), value: Serdes.json(Item) })
    .peek((_, v) => void seen.push(v.n))
    .dedupe({ key: (_, v) => v.n, store: DEDUP_STORE, storeValue: (_, v) => v.n });
  accepted.mapValues((v) => v.n.toUpperCase()).to('out', { value: Serdes.string() });
  return builder.build();
}

const stateDirs: string[] = [];
const threads: StreamThread[] = [];
let current: FakeCluster | undefined;

/** One cluster on a manual clock, with `in` (and its `in-dlq`) and `out`; `driver(name)` is one simulated process. */
export interface World {
  readonly cluster: FakeCluster;
  readonly clock: ManualClock;
  driver(name: string): FakeKafkaDriver;
}

export function createWorld(inPartitions = 1): World {
  const clock = new ManualClock(0);
  const cluster = (current = new FakeCluster({ clock }));
  createTopics(cluster, { in: inPartitions });
  return { cluster, clock, driver: (name) => new FakeKafkaDriver({ cluster, name }) };
}

/** A world with one process, `w1`, and the list its topology's peek fills. */
export function oneWorker(): World & { readonly d: FakeKafkaDriver; readonly seen: Seen } {
  const world = createWorld();
  return { ...world, d: world.driver('w1'), seen: [] };
}

export interface ThreadSetup {
  readonly driver: FakeKafkaDriver;
  readonly clock: ManualClock;
  readonly topology: Topology;
  readonly config?: Partial<StreamsConfigInput>;
}

export function createThread(s: ThreadSetup): StreamThread {
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-fake-'));
  stateDirs.push(stateDir);
  const config = parseStreamsConfig({
    applicationId: 'app',
    brokers: 'fake:9092',
    stateDir,
    commitIntervalMs: 1_000,
    instanceId: s.driver.name,
    processingExceptionHandler: 'dead-letter',
    maxRetryBackoffMs: 100,
    ...s.config,
  });
  const registry = new Registry();
  const thread = new StreamThread({
    config,
    sub: s.topology.subTopologies[0],
    driver: s.driver,
    // FAKE_DRIVER_LOG=1 shows the runtime's log when a test here needs explaining.
    logger: createLogger({ level: process.env.FAKE_DRIVER_LOG === '1' ? 'debug' : 'silent' }),
    registry,
    metrics: new RuntimeMetrics(registry),
    globalStores: new Map(),
    clock: s.clock,
  });
  threads.push(thread);
  return thread;
}

/** For afterEach: drops pending faults, stops every thread created here and removes their state dirs. */
export async function stopThreads(): Promise<void> {
  current?.faults.clear();
  current = undefined;
  await Promise.all(threads.splice(0).map((t) => t.stop(5_000)));
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function createTopics(cluster: FakeCluster, partitions: { in: number; out?: number }): void {
  cluster.createTopic('in', partitions.in);
  cluster.createTopic('in-dlq', partitions.in);
  cluster.createTopic('out', partitions.out ?? 1);
}

/** Appends items to `in` (one produce request), on the given partition. */
export async function produceItems(driver: FakeKafkaDriver, partition: number, items: readonly string[]): Promise<void> {
  const producer = await driver.createProducer({ clientId: 'test-input' });
  await producer.send(items.map((n) => ({ topic: 'in', partition, key: Buffer.from(n), value: Buffer.from(JSON.stringify({ n })) })));
}

export const valuesOf = (records: readonly ConsumedRecord[]): string[] => records.map((r) => r.value?.toString() ?? '<null>');

export type SinkCall = string;

/**
 * A sink that records its calls (`open p0`, `write in:0@0,1`, `flush`, `close`) in a log shared with
 * the test; its first `failFlushes` flushes (over all its instances) throw, as a service outage would.
 */
export function recordingSink(log: SinkCall[], written: SinkRecord<string, string>[], failFlushes = 0): SinkSupplier<string, string> {
  let failing = failFlushes;
  return {
    name: 'recording-sink',
    create(): Sink<string, string> {
      return {
        open: async (task) => void log.push(`open p${task.partition}`),
        write: async (batch) => {
          written.push(...batch);
          log.push(`write ${batch[0]?.topic}:${batch[0]?.partition}@${batch.map((r) => r.offset).join(',')}`);
        },
        flush: async () => {
          if (failing > 0) {
            failing--;
            log.push('flush failed');
            throw new Error('sink service unavailable');
          }
          log.push('flush');
        },
        close: async () => void log.push('close'),
      };
    },
  };
}

/**
 * Runs `between` while the driver's thread is parked at the start of its next poll, i.e. after the
 * loop iteration in flight has finished, its commit's bookkeeping included (a commit is visible
 * on the cluster before the thread notes its time: moving the clock in between would be a race).
 */
export async function atNextPoll(cluster: FakeCluster, driver: string, between: () => Promise<void> | void): Promise<void> {
  const gate = cluster.faults.pauseNext('poll', { driver });
  await gate.reached;
  try {
    await between();
  } finally {
    gate.release();
  }
}

/** The cluster's events from now on, in order. */
export function recordEvents(cluster: FakeCluster): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  cluster.onEvent((e) => out.push(e));
  return out;
}

/**
 * Two stream threads, A and B, over one partition: A processed a0..a2 and is held at `stopAt` in its
 * commit, then frozen as a whole (a GC pause, SIGSTOP: with its commit in flight it would otherwise
 * poll on, rejoin and take the partition back); its session expires and B starts, to get the
 * partition. `fencesOffsetsByGeneration: false` plays a client without KIP-447 (kafkajs).
 */
export async function zombieScenario(stopAt: 'sendOffsets' | 'commit', options: { readonly fencesOffsetsByGeneration?: boolean } = {}) {
  const { cluster: c, clock } = createWorld();
  const events = recordEvents(c);
  const da = new FakeKafkaDriver({ cluster: c, name: 'A', ...options });
  const db = new FakeKafkaDriver({ cluster: c, name: 'B', ...options });
  const seenA: Seen = [];
  const seenB: Seen = [];
  const a = createThread({ driver: da, clock, topology: itemTopology(seenA) });
  const b = createThread({ driver: db, clock, topology: itemTopology(seenB) });
  await produceItems(da, 0, ['a0', 'a1', 'a2']);
  void a.start();
  await c.until(() => seenA.length === 3, { description: 'A to process' });

  const held = c.faults.pauseNext(stopAt, { driver: 'A' });
  clock.advance(1_000);
  await held.reached;
  const frozen = c.faults.pauseNext('poll', { driver: 'A' });
  c.removeMember(a.groupId, c.groupView(a.groupId).members[0].memberId);
  void b.start();
  return { c, a, b, held, frozen, events, seenA, seenB, db, clock };
}

/** The transactions committed and aborted, in order: `<event> <transactionalId>`. */
export const txnEvents = (events: readonly ClusterEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'transaction-committed' || e.type === 'transaction-aborted' ? [`${e.type} ${e.transactionalId}`] : []));
