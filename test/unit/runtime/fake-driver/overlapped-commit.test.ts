import { afterEach, describe, expect, it } from 'vitest';
import { TransactionError } from '../../../../runtime/kafka/errors.js';
import { changelogTopicName } from '../../../../statestores/changelogging-store.js';
import { atNextPoll, createThread, DEDUP_STORE, dedupTopology, createWorld, itemTopology, produceItems, recordEvents, stopThreads, valuesOf, type Seen } from './thread-harness.js';

/**
 * exactly_once_v2 with the commit overlapped: the thread seals a batch, leaves its transaction
 * running and processes the next batch meanwhile. The gates hold the commit in flight while the
 * next batch arrives, so every test below runs the interleaving it names, every time.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;
const STORE = DEDUP_STORE;
const CHANGELOG = changelogTopicName('app', STORE);


const entryKinds = (entries: readonly { kind: string; txn?: { status: string } | null; value?: Buffer | null }[]): string[] =>
  entries.map((e) => `${e.kind}:${e.txn?.status}${e.kind === 'record' ? `:${e.value?.toString() ?? ''}` : ''}`);

/**
 * x and y processed and sealed, their commit held at its gate (to fail with `failure` once
 * released, if given); then x again and z arrive and are processed while it is held.
 */
async function nextBatchDuringCommit(failure?: Error) {
  const { cluster: c, clock, driver } = createWorld();
  c.createTopic(CHANGELOG, 1);
  const d = driver('A');
  const seen: Seen = [];
  const thread = createThread({ driver: d, clock, topology: dedupTopology(seen) });
  await produceItems(d, 0, ['x', 'y']);
  const held = c.faults.pauseNext('commit', { driver: 'A' });
  if (failure !== undefined) c.faults.failNext('commit', failure, { driver: 'A' });
  clock.advance(1_000);
  void thread.start();
  await held.reached;
  await produceItems(d, 0, ['x', 'z']);
  await c.until(() => seen.length === 4, { description: 'the next batch to be processed while the commit is held' });
  return { c, clock, thread, seen, held };
}

describe('overlapped commits on the fake driver', () => {
  it('processes the next batch while the commit is in flight, reading the sealed writes', async () => {
    const { c, clock, thread, seen, held } = await nextBatchDuringCommit();
    expect(c.committedOffset(thread.groupId, tp0)).toBeNull();
    expect(c.records('out')).toEqual([]);
    // Only the sealed batch is in the transaction: the next one waits for its own commit.
    expect(valuesOf(c.records('out', 'read_uncommitted'))).toEqual(['X', 'Y']);

    held.release();
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 2n, { description: 'the first commit' });
    await atNextPoll(c, 'A', () => void clock.advance(1_000));
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 4n, { description: 'the second commit' });

    // The second x was judged against the sealed write of the first: a duplicate, not output.
    expect(seen).toEqual(['x', 'y', 'x', 'z']);
    expect(valuesOf(c.records('out'))).toEqual(['X', 'Y', 'Z']);
    expect(entryKinds(c.entries('out'))).toEqual(['record:committed:X', 'record:committed:Y', 'marker:committed', 'record:committed:Z', 'marker:committed']);
    expect(c.entries(CHANGELOG).map((e) => `${e.kind}:${e.txn?.status}:${e.key?.toString() ?? ''}`)).toEqual([
      'record:committed:x',
      'record:committed:y',
      'marker:committed:',
      'record:committed:z',
      'marker:committed:',
    ]);
  });

  it('a commit that fails in flight drops the batch processed on top of it too; both are replayed exactly', async () => {
    const { c, thread, seen, held } = await nextBatchDuringCommit(new TransactionError('coordinator moved'));

    held.release();
    await c.until(() => c.committedOffset(thread.groupId, tp0) === 4n, { description: 'the replayed commit' });
    // Both batches again, from the committed state: nothing of the failed one (x, y) reached the store.
    expect(seen).toEqual(['x', 'y', 'x', 'z', 'x', 'y', 'x', 'z']);
    expect(valuesOf(c.records('out'))).toEqual(['X', 'Y', 'Z']);
    // The batch processed during the failed commit was never sent, not even into an aborted transaction.
    expect(valuesOf(c.records('out', 'read_uncommitted'))).toEqual(['X', 'Y', 'X', 'Y', 'Z']);
    expect(c.entries(CHANGELOG).filter((e) => e.kind === 'record' && e.txn?.status === 'committed').map((e) => e.key?.toString())).toEqual(['x', 'y', 'z']);
  });

  it('a new generation delivered while the commit is in flight fences it: its offsets carry the generation of its batch', async () => {
    const { cluster: c, clock, driver } = createWorld();
    const events = recordEvents(c);
    const d = driver('A');
    const seen: Seen = [];
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b', 'c']);
    const held = c.faults.pauseNext('sendOffsets', { driver: 'A' });
    clock.advance(1_000);
    void thread.start();
    await held.reached;
    const generation = c.groupView(thread.groupId).generation;

    // The member polls on while its commit is held; the poll after this brings a new generation
    // (our partitions might have been elsewhere in between), and the thread reopens its tasks.
    await atNextPoll(c, 'A', () => void c.rebalance(thread.groupId));
    await c.until(() => c.groupView(thread.groupId).generation > generation, { description: 'the new generation' });
    held.release();

    await c.until(() => c.committedOffset(thread.groupId, tp0) === 3n, { description: 'the commit in the new generation' });
    const txns = events.flatMap((e) => (e.type === 'transaction-committed' || e.type === 'transaction-aborted' ? [e.type] : []));
    expect(txns).toEqual(['transaction-aborted', 'transaction-committed']);
    expect(valuesOf(c.records('out'))).toEqual(['A', 'B', 'C']);
    expect(entryKinds(c.entries('out'))).toEqual([
      'record:aborted:A',
      'record:aborted:B',
      'record:aborted:C',
      'marker:aborted',
      'record:committed:A',
      'record:committed:B',
      'record:committed:C',
      'marker:committed',
    ]);
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });
});
