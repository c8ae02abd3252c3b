import { afterEach, describe, expect, it } from 'vitest';
import { KafkaDriverError, TransactionError } from '../../../../runtime/kafka/errors.js';
import { changelogTopicName } from '../../../../statestores/changelogging-store.js';
import { atNextPoll, createThread, DEDUP_STORE, dedupTopology, createWorld, itemTopology, oneWorker, produceItems, stopThreads, valuesOf, type Seen } from './thread-harness.js';

/**
 * Recovery paths that go through more of the driver: a logged store restored by a new owner from
 * its changelog (the reader, read_committed, markers), and a Kafka failure that replaces the
 * group member and the producer.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;
const STORE = DEDUP_STORE;


describe('stateful recovery on the fake driver', () => {
  it('a new owner restores the store from the committed changelog only, and deduplicates exactly', async () => {
    const { cluster: c, clock, driver } = createWorld();
    const changelog = changelogTopicName('app', STORE);
    c.createTopic(changelog, 1);
    const da = driver('A');
    const seenA: Seen = [];
    const a = createThread({ driver: da, clock, topology: dedupTopology(seenA) });
    await produceItems(da, 0, ['x', 'y', 'x']);
    clock.advance(1_000);
    void a.start();
    await c.until(() => c.committedOffset(a.groupId, tp0) === 3n, { description: 'A to commit x, y, x' });

    // The next commit fails once: its changelog record for w is aborted, then written again.
    await atNextPoll(c, 'A', async () => {
      c.faults.failNext('commit', new TransactionError('coordinator moved'));
      await produceItems(da, 0, ['w']);
      clock.advance(1_000);
    });
    await c.until(() => c.committedOffset(a.groupId, tp0) === 4n, { description: 'A to commit w after the retry' });
    await a.stop();
    expect(c.entries(changelog).map((e) => `${e.kind}:${e.txn?.status}:${e.key?.toString() ?? ''}`)).toEqual([
      'record:committed:x',
      'record:committed:y',
      'marker:committed:',
      'record:aborted:w',
      'marker:aborted:',
      'record:committed:w',
      'marker:committed:',
    ]);

    const db = driver('B');
    const seenB: Seen = [];
    const b = createThread({ driver: db, clock, topology: dedupTopology(seenB) });
    await produceItems(db, 0, ['y', 'v', 'w', 'v']);
    clock.advance(1_000);
    void b.start();
    await c.until(() => c.committedOffset(b.groupId, tp0) === 8n, { description: 'B to commit its batch' });
    expect(seenB).toEqual(['y', 'v', 'w', 'v']);
    expect(valuesOf(c.records('out'))).toEqual(['X', 'Y', 'W', 'V']);
  });

  it('a Kafka failure in poll replaces the member and the producer, and the output stays exact', async () => {
    const { cluster: c, clock, d, seen } = oneWorker();
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b']);
    void thread.start();
    await c.until(() => seen.length === 2, { description: 'the first processing' });
    // Uncommitted work is pending when the fetch fails.
    c.faults.failNext('poll', new KafkaDriverError('broker unreachable'), { driver: 'w1' });
    await c.until(() => c.faults.count('createGroupConsumer') === 2, { description: 'a new member' });
    clock.advance(1_000);
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 2n, { description: 'the commit after reconnecting' });
    expect(valuesOf(c.records('out'))).toEqual(['A', 'B']);
    expect(valuesOf(c.records('out', 'read_uncommitted'))).toEqual(['A', 'B']);
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
    expect(c.faults.count('createTransactionalProducer')).toBe(2);
    expect(c.groupView(thread.groupId).members).toHaveLength(1);
  });
});

/**
 * Found with this test: a failed abort used to be only logged, so the producer and its open
 * transaction (holding the group's offsets) stayed, and the thread's own require_stable read, when
 * it reopened its tasks, waited for that transaction until the broker timed it out (10 s by default;
 * never, on a manual clock). commit-strategy.ts now replaces the producer, as errors.ts prescribes.
 */
describe('a transaction that cannot be aborted', () => {
  it('is left to a new producer (whose InitProducerId aborts it), and the output stays exact', async () => {
    const { cluster: c, clock, d, seen } = oneWorker();
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b']);
    c.faults.failNext('commit', new TransactionError('coordinator went away'));
    // The producer is wedged: every abort fails (three here; a real one may fail for ever).
    for (let i = 0; i < 3; i++) c.faults.failNext('abort', new TransactionError('invalid transaction state', { abortable: false }));
    clock.advance(1_000);
    void thread.start();
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 2n, { description: 'the commit after recovery' });
    expect(valuesOf(c.records('out'))).toEqual(['A', 'B']);
    expect(c.faults.count('abort')).toBe(1);
    expect(c.faults.count('createTransactionalProducer')).toBe(2);
  });
});

describe('a failure inside a rebalance callback', () => {
  it('is raised after poll() returns; the thread recovers with a new member and the output is exact', async () => {
    const { cluster: c, clock, d, seen } = oneWorker();
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b']);
    // The committed-offset read of onAssigned fails: the task cannot be opened.
    c.faults.failNext('committed', new KafkaDriverError('coordinator loading'));
    clock.advance(1_000);
    void thread.start();
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 2n, { description: 'the commit after recovery' });
    expect(valuesOf(c.records('out', 'read_uncommitted'))).toEqual(['A', 'B']);
    expect(seen).toEqual(['a', 'b']); // the first poll's records were never processed without a task
    expect(c.faults.count('createGroupConsumer')).toBe(2);
  });
});
