import { afterEach, describe, expect, it } from 'vitest';
import { atNextPoll, produceItems, stopThreads, txnEvents, valuesOf, zombieScenario } from './thread-harness.js';

/**
 * KIP-447 with two stream threads: a member whose session expired in the middle of a commit (a
 * zombie) and the member that took its partition over. Whichever side of sendOffsets the zombie
 * stopped at, every input is in the output exactly once.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;
const scenario = (stopAt: 'sendOffsets' | 'commit') => zombieScenario(stopAt);

describe('a zombie commit and the new owner', () => {
  it('held before sendOffsets: the zombie is fenced by generation, the new owner redoes the work', async () => {
    const { c, a, b, held, frozen, events, seenB, db, clock } = await scenario('sendOffsets');
    await c.until(() => c.committedOffset(b.groupId, tp0) === 3n, { description: 'B to commit the partition from the start' });
    expect(seenB).toEqual(['a0', 'a1', 'a2']);
    held.release();
    frozen.release();
    await c.until(() => txnEvents(events).includes(`transaction-aborted app-${a.name}-A`), { description: 'the zombie to abort' });

    await atNextPoll(c, 'B', async () => {
      await produceItems(db, 0, ['a3']);
      clock.advance(1_000);
    });
    await c.until(() => c.committedOffset(b.groupId, tp0) === 4n, { description: 'the owner to go on' });
    expect(valuesOf(c.records('out'))).toEqual(['A0', 'A1', 'A2', 'A3']);
    const committedBy = c.entries('out').flatMap((e) => (e.kind === 'record' && e.txn?.status === 'committed' ? [e.producer] : []));
    expect(new Set(committedBy)).toEqual(new Set([`app-${b.name}-B`]));
  });

  it('held after sendOffsets: the new owner waits for the zombie\'s transaction and goes on from its offsets', async () => {
    const { c, a, b, held, frozen, events, seenA, seenB, db } = await scenario('commit');
    await c.until(() => c.unstableWaits === 1, { description: 'B to wait for stable offsets' });
    expect(b.assignedPartitions).toEqual([]);
    expect(seenB).toEqual([]);
    held.release();
    frozen.release();
    await c.until(() => b.assignedPartitions.length === 1, { description: 'B to open the task' });
    // The transaction was accepted with the generation current when its offsets were sent.
    expect(txnEvents(events)).toEqual([`transaction-committed app-${a.name}-A`]);
    expect(c.committedOffset(b.groupId, tp0)).toBe(3n);

    await produceItems(db, 0, ['a3']);
    await c.until(() => c.committedOffset(b.groupId, tp0) === 4n, { description: 'B to process what came next' });
    expect(seenA).toEqual(['a0', 'a1', 'a2']);
    expect(seenB).toEqual(['a3']);
    expect(valuesOf(c.records('out'))).toEqual(['A0', 'A1', 'A2', 'A3']);
    expect(c.entries('out').filter((e) => e.kind === 'record').map((e) => `${e.value?.toString()} ${e.producer}`)).toEqual([
      `A0 app-${a.name}-A`,
      `A1 app-${a.name}-A`,
      `A2 app-${a.name}-A`,
      `A3 app-${b.name}-B`,
    ]);
  });
});
