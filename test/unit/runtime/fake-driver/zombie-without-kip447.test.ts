import { afterEach, describe, expect, it } from 'vitest';
import { produceItems, stopThreads, txnEvents, valuesOf, zombieScenario } from './thread-harness.js';

/**
 * The zombie of zombie.test.ts on a client without KIP-447 (kafkajs 2.2.4): its offsets carry no
 * generation, so nothing fences them by group. Exactly-once then rests on one transactional
 * producer per input partition: the new owner's InitProducerId for `app-<thread>-<partition>`
 * fences the zombie's and aborts its open transaction before the new owner reads the committed
 * offsets. With one producer per thread (the KIP-447 layout) the zombie's commit would land and
 * the partition's work would be in the output twice.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;
const scenario = (stopAt: 'sendOffsets' | 'commit') => zombieScenario(stopAt, { fencesOffsetsByGeneration: false });

describe('a zombie commit and the new owner, without KIP-447 (a transactional producer per partition)', () => {
  for (const stopAt of ['sendOffsets', 'commit'] as const) {
    it(`held before ${stopAt}: the new owner's producer for the partition aborts the zombie's transaction and fences it; the zombie rejoins; every input once`, async () => {
      const { c, a, b, held, frozen, events, seenA, seenB, db, clock } = await scenario(stopAt);
      const partitionProducer = `app-${a.name}-0`;
      await c.until(() => c.committedOffset(b.groupId, tp0) === 3n, { description: 'B to commit the partition from the start' });
      // B's InitProducerId ended the zombie's transaction before B read the offsets: none were committed, B redid it all.
      expect(seenB).toEqual(['a0', 'a1', 'a2']);
      expect(txnEvents(events)).toEqual([`transaction-aborted ${partitionProducer}`, `transaction-committed ${partitionProducer}`]);

      const membersBefore = c.groupView(a.groupId).members.length;
      held.release();
      frozen.release();
      // The zombie's commit meets the fence; it cannot know whether the partition is still its own, so it rejoins as a new member.
      await c.until(() => c.groupView(a.groupId).members.length === membersBefore + 1, { description: 'the zombie to rejoin the group' });
      expect(txnEvents(events).filter((e) => e.startsWith('transaction-committed'))).toEqual([`transaction-committed ${partitionProducer}`]);

      await produceItems(db, 0, ['a3']);
      await c.until(
        () => {
          clock.advance(1_000);
          return c.committedOffset(b.groupId, tp0) === 4n;
        },
        { description: 'the owner to go on' },
      );
      expect(valuesOf(c.records('out'))).toEqual(['A0', 'A1', 'A2', 'A3']);
      expect([...seenA, ...seenB].filter((n) => n === 'a3')).toEqual(['a3']);
      // Every transaction that wrote was the partition's producer; none of a per-thread id.
      const committedBy = c.entries('out').flatMap((e) => (e.kind === 'record' && e.txn?.status === 'committed' ? [e.producer] : []));
      expect(new Set(committedBy)).toEqual(new Set([partitionProducer]));
    });
  }
});
