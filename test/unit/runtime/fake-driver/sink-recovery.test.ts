import { afterEach, describe, expect, it } from 'vitest';
import type { Sink, SinkSupplier } from '../../../../topology/sink.js';
import { createThread, itemTopology, oneWorker, produceItems, stopThreads } from './thread-harness.js';

/**
 * DESIGN section 4, "a sink never continues over lost state", on the fake driver: a sink whose own
 * store is behind the group's committed offset makes its task replay from where the store really
 * is, and stops the thread loudly when Kafka no longer holds those records.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;

/** A sink's store: the effects it holds and the highest input offset applied (its fence). */
interface SinkStore {
  appliedThrough: number | null;
  effects: string[];
  writes: string[];
}

/** Applies a batch atomically with its highest offset, skipping what the fence covers. */
function fencedSink(store: SinkStore): SinkSupplier<string, string> {
  return {
    name: 'fenced-sink',
    create(): Sink<string, string> {
      return {
        open: async () => ({ appliedThrough: store.appliedThrough }),
        write: async (batch) => {
          store.writes.push(batch.map((r) => r.offset).join(','));
          for (const r of batch) {
            if (store.appliedThrough !== null && r.offset <= store.appliedThrough) continue;
            store.effects.push(r.value);
            store.appliedThrough = r.offset;
          }
        },
        flush: async () => undefined,
        close: async () => undefined,
      };
    },
  };
}

async function runUntilCommitted(store: SinkStore, items: readonly string[]) {
  const world = oneWorker();
  const first = createThread({ driver: world.d, clock: world.clock, topology: itemTopology(world.seen, fencedSink(store)) });
  await produceItems(world.d, 0, items);
  world.clock.advance(1_000);
  void first.start();
  await world.cluster.until(() => world.cluster.committedOffset(first.groupId, tp0) === BigInt(items.length), { description: 'the first run to commit' });
  await first.stop();
  return world;
}

describe('a sink whose store lost state', () => {
  it('makes its task replay from where the store is; the fence skips what it still holds', async () => {
    const store: SinkStore = { appliedThrough: null, effects: [], writes: [] };
    const { cluster, clock, driver } = await runUntilCommitted(store, ['a', 'b', 'c']);
    expect(store.effects).toEqual(['A', 'B', 'C']);
    // The store rolled back to offset 0 (a failover to a stale replica), while the group committed 3.
    store.appliedThrough = 0;
    store.effects = ['A'];
    store.writes = [];

    const d2 = driver('w2');
    const seen: string[] = [];
    const second = createThread({ driver: d2, clock, topology: itemTopology(seen, fencedSink(store)) });
    await produceItems(d2, 0, ['d']);
    clock.advance(1_000);
    void second.start();
    await cluster.until(() => cluster.committedOffset(second.groupId, tp0) === 4n, { description: 'the replay to commit' });
    expect(seen).toEqual(['b', 'c', 'd']);
    expect(store.writes).toEqual(['1,2,3']);
    expect(store.effects).toEqual(['A', 'B', 'C', 'D']);
  });

  it('stops the thread with SINK_STATE_UNRECOVERABLE when Kafka no longer holds what the store lost', async () => {
    const store: SinkStore = { appliedThrough: null, effects: [], writes: [] };
    const { cluster, clock, driver } = await runUntilCommitted(store, ['a', 'b', 'c']);
    store.appliedThrough = 0;
    cluster.log(tp0).deleteBefore(2n);

    const second = createThread({ driver: driver('w2'), clock, topology: itemTopology([], fencedSink(store)) });
    await expect(second.start()).rejects.toMatchObject({ code: 'SINK_STATE_UNRECOVERABLE' });
    expect(cluster.committedOffset(second.groupId, tp0)).toBe(3n);
    expect(store.writes).toEqual(['0,1,2']);
  });
});
