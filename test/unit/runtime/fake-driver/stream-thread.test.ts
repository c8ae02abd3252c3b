import { afterEach, describe, expect, it } from 'vitest';
import { TransactionError } from '../../../../runtime/kafka/errors.js';
import type { SinkRecord } from '../../../../topology/sink.js';
import { createThread, createWorld, itemTopology, oneWorker, produceItems, recordEvents, recordingSink, stopThreads, valuesOf, type Seen, type SinkCall } from './thread-harness.js';

/**
 * The stream thread, its task manager and its commit strategies on the in-memory driver: the
 * commit protocol's decisions (when to commit, what a fence or a revocation drops, in which order
 * sinks and offsets go) asserted exactly, with the interleavings forced by gates, not timing.
 */

afterEach(stopThreads);

const tp0 = { topic: 'in', partition: 0 } as const;
const tp1 = { topic: 'in', partition: 1 } as const;

describe('StreamThread on the fake driver: commit interval', () => {
  it('does not commit before commit.interval.ms has passed on its clock, and commits once after', async () => {
    const { cluster, clock, d, seen } = oneWorker();
    const log = recordEvents(cluster);
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    expect(thread.mode).toBe('transactional');
    await produceItems(d, 0, ['a', 'b', 'c']);
    void thread.start();
    await cluster.until(() => seen.length === 3, { description: 'the three records to be processed' });

    // The loop iteration that processed them has finished once the thread is back in poll().
    const first = cluster.faults.pauseNext('poll', { target: thread.groupId });
    await first.reached;
    clock.advance(999);
    const second = cluster.faults.pauseNext('poll', { target: thread.groupId });
    first.release();
    await second.reached;
    expect(cluster.committedOffset(thread.groupId, tp0)).toBeNull();
    expect(cluster.entries('out')).toEqual([]); // nothing sent, not even in an open transaction
    expect(cluster.faults.count('begin')).toBe(0);

    clock.advance(1);
    second.release();
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 3n, { description: 'the commit' });
    expect(valuesOf(cluster.records('out'))).toEqual(['A', 'B', 'C']);
    expect(log.filter((e) => e.type === 'transaction-committed')).toHaveLength(1);
    expect(log.filter((e) => e.type === 'offsets-committed')).toEqual([{ type: 'offsets-committed', groupId: thread.groupId, via: 'transaction', offsets: [{ ...tp0, offset: 3n }] }]);
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('StreamThread on the fake driver: fenced commits', () => {
  it.each(['group', 'producer'] as const)('a %s fence during the commit aborts the transaction; the thread recovers and the output is exact', async (kind) => {
    const { cluster, clock, d, seen } = oneWorker();
    const log = recordEvents(cluster);
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b', 'c', 'd', 'e']);
    void thread.start();
    await cluster.until(() => seen.length === 5, { description: 'the first processing' });

    const offsetsSent = cluster.faults.pauseNext('sendOffsets');
    clock.advance(1_000);
    await offsetsSent.reached;
    // The outputs are in the open transaction: in the log, hidden from read_committed.
    expect(valuesOf(cluster.records('out', 'read_uncommitted'))).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(cluster.records('out')).toEqual([]);
    if (kind === 'group') cluster.rebalance(thread.groupId);
    else cluster.fenceProducer(`app-${thread.name}-w1`);
    offsetsSent.release();

    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 5n, { description: 'the commit after recovery' });
    expect(valuesOf(cluster.records('out'))).toEqual(['A', 'B', 'C', 'D', 'E']);
    // The fenced attempt is there, aborted: five records and a marker.
    expect(cluster.entries('out').map((e) => `${e.kind}:${e.txn?.status}`)).toEqual([
      ...Array<string>(5).fill('record:aborted'),
      'marker:aborted',
      ...Array<string>(5).fill('record:committed'),
      'marker:committed',
    ]);
    expect(log.filter((e) => e.type === 'transaction-aborted' || e.type === 'transaction-committed').map((e) => e.type)).toEqual(['transaction-aborted', 'transaction-committed']);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e', 'a', 'b', 'c', 'd', 'e']);
    // A group fence keeps the producer; a producer fence needs a new one.
    expect(cluster.faults.count('createTransactionalProducer')).toBe(kind === 'group' ? 1 : 2);
    expect(cluster.faults.count('createGroupConsumer')).toBe(1);
  });

  it('a commit that fails (TransactionError on commit) is aborted and replayed exactly', async () => {
    const { cluster, clock, d, seen } = oneWorker();
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen) });
    await produceItems(d, 0, ['a', 'b']);
    cluster.faults.failNext('commit', new TransactionError('coordinator went away'));
    clock.advance(1_000);
    void thread.start();
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 2n, { description: 'the replayed commit' });
    expect(valuesOf(cluster.records('out'))).toEqual(['A', 'B']);
    expect(valuesOf(cluster.records('out', 'read_uncommitted'))).toEqual(['A', 'B', 'A', 'B']);
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('StreamThread on the fake driver: rebalances', () => {
  it('revocation drops the pending (uncommitted) work; the new owner\'s output is exact', async () => {
    const { cluster, clock, driver } = createWorld(2);
    const da = driver('A');
    const db = driver('B');
    const seenA: Seen = [];
    const seenB: Seen = [];
    const a = createThread({ driver: da, clock, topology: itemTopology(seenA) });
    await produceItems(da, 0, ['a0', 'a1']);
    await produceItems(da, 1, ['b0', 'b1']);
    void a.start();
    await cluster.until(() => seenA.length === 4, { description: 'A to process both partitions' });
    const aPolls = cluster.faults.pauseNext('poll', { driver: 'A' });
    await aPolls.reached;
    expect(a.assignedPartitions).toEqual([0, 1]);
    expect(cluster.entries('out')).toEqual([]);

    // B joins while A holds uncommitted work of both partitions; the range assignor gives B partition 1.
    const b = createThread({ driver: db, clock, topology: itemTopology(seenB) });
    void b.start();
    await cluster.until(() => b.assignedPartitions.length === 1 && seenB.length === 2, { description: 'B to take partition 1 and process it' });
    expect(b.assignedPartitions).toEqual([1]);
    aPolls.release();
    await cluster.until(() => a.assignedPartitions.length === 1, { description: 'A to give up partition 1' });
    expect(a.assignedPartitions).toEqual([0]);

    clock.advance(1_000);
    await cluster.until(() => cluster.committedOffset(a.groupId, tp0) === 2n && cluster.committedOffset(a.groupId, tp1) === 2n, { description: 'both commits' });
    const out = cluster.entries('out').filter((e) => e.kind === 'record');
    expect(out.map((e) => `${e.value?.toString()} ${e.txn?.status} ${e.producer}`).sort()).toEqual([
      `A0 committed app-${a.name}-A`,
      `A1 committed app-${a.name}-A`,
      `B0 committed app-${b.name}-B`,
      `B1 committed app-${b.name}-B`,
    ]);
    // A's work on partition 1 was dropped before it was ever sent: no aborted copy either.
    expect(seenA.filter((n) => n.startsWith('b'))).toEqual(['b0', 'b1']);
    expect(seenB).toEqual(['b0', 'b1']);
  });

  it('a partition that went to another member and came back before the next poll is reopened, not committed from stale work', async () => {
    const { cluster, clock, driver } = createWorld(2);
    const seenA: Seen = [];
    const seenB: Seen = [];
    const a = createThread({ driver: driver('A'), clock, topology: itemTopology(seenA) });
    const b = createThread({ driver: driver('B'), clock, topology: itemTopology(seenB) });
    await produceItems(driver('input'), 0, ['a0', 'a1']);
    await produceItems(driver('input'), 1, ['b0', 'b1']);
    void a.start();
    await cluster.until(() => seenA.length === 4, { description: 'A to process both partitions' });
    const aPolls = cluster.faults.pauseNext('poll', { driver: 'A' });
    await aPolls.reached;

    // While A is held with uncommitted work, B owns partition 1 for a generation, commits it and leaves.
    void b.start();
    await cluster.until(() => seenB.length === 2, { description: 'B to process partition 1' });
    clock.advance(1_000);
    await cluster.until(() => cluster.committedOffset(a.groupId, tp1) === 2n, { description: 'B to commit' });
    await b.stop();
    await produceItems(driver('input'), 1, ['b2']);
    // A's assignment is what it was: the driver reports no revocation, only a new generation.
    expect(cluster.groupView(a.groupId).members.map((m) => m.assignment.length)).toEqual([2]);
    aPolls.release();

    await cluster.until(() => cluster.committedOffset(a.groupId, tp0) === 2n && cluster.committedOffset(a.groupId, tp1) === 3n, { description: 'A to commit' });
    const out = cluster.entries('out').filter((e) => e.kind === 'record');
    expect(out.map((e) => `${e.value?.toString()} ${e.txn?.status} ${e.producer.slice(-1)}`).sort()).toEqual([
      'A0 committed A',
      'A1 committed A',
      'B0 committed B',
      'B1 committed B',
      'B2 committed A',
    ]);
    expect(seenA).toEqual(['a0', 'a1', 'b0', 'b1', 'a0', 'a1', 'b2']);
  });

  it('a new generation reopens the tasks only once the committed offsets are stable', async () => {
    const { cluster, clock, driver } = createWorld();
    const dt = driver('T');
    const dz = driver('Z');
    const seen: Seen = [];
    // One record per poll and a commit after each: every processed record is committed before the next.
    const t = createThread({ driver: dt, clock, topology: itemTopology(seen), config: { maxBatchRecords: 1 } });
    await produceItems(dt, 0, ['r0', 'r1', 'r2']);
    void t.start();
    await cluster.until(() => cluster.committedOffset(t.groupId, tp0) === 3n, { description: 'T to commit r0..r2' });

    // Held in poll while another member joins (generation 2, nothing moves) and a transaction
    // holding the group's offset for the partition opens: a previous owner's last commit in flight.
    const tPolls = cluster.faults.pauseNext('poll', { driver: 'T' });
    await tPolls.reached;
    const member = await dz.createGroupConsumer({ groupId: t.groupId, topics: ['in'] });
    await member.poll({ maxWaitMs: 1 });
    expect(member.assignment()).toEqual([]);
    const previous = await dz.createTransactionalProducer({ transactionalId: 'previous-owner' });
    await previous.begin();
    await previous.send([{ topic: 'out', key: null, value: Buffer.from('FROM-PREVIOUS') }]);
    await previous.sendOffsets(member, [{ ...tp0, offset: 5n }]);
    await produceItems(dt, 0, ['r3', 'r4', 'r5', 'r6']);
    tPolls.release();

    await cluster.until(() => cluster.unstableWaits === 1, { description: 'T to wait for stable offsets' });
    expect(t.assignedPartitions).toEqual([]); // closed, not processing
    expect(seen).toEqual(['r0', 'r1', 'r2']);

    await previous.commit();
    await cluster.until(() => cluster.committedOffset(t.groupId, tp0) === 7n, { description: 'T to go on from the stable offset' });
    expect(seen).toEqual(['r0', 'r1', 'r2', 'r5', 'r6']);
    expect(valuesOf(cluster.records('out'))).toEqual(['R0', 'R1', 'R2', 'FROM-PREVIOUS', 'R5', 'R6']);
    await member.close();
  });
});

describe('StreamThread on the fake driver: at-least-once mode', () => {
  it('sends the outputs, acknowledged, before it commits the offsets, with no transaction', async () => {
    const { cluster, clock, d, seen } = oneWorker();
    const log = recordEvents(cluster);
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen), config: { processingGuarantee: 'at_least_once' } });
    expect(thread.mode).toBe('at-least-once');
    await produceItems(d, 0, ['a', 'b']);
    clock.advance(1_000);
    void thread.start();
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 2n, { description: 'the commit' });
    expect(log.filter((e) => e.type !== 'rebalance' && !(e.type === 'produced' && e.producer === 'test-input'))).toEqual([
      { type: 'produced', producer: `app-${thread.name}`, transactional: false, offsets: [{ topic: 'out', partition: 0, offset: 0n }], records: 2 },
      { type: 'offsets-committed', groupId: thread.groupId, via: 'commitSync', offsets: [{ ...tp0, offset: 2n }] },
    ]);
    expect(valuesOf(cluster.records('out'))).toEqual(['A', 'B']);
    expect(cluster.faults.count('begin')).toBe(0);
  });
});

describe('StreamThread on the fake driver: sink-fenced mode', () => {
  it('flushes the sinks before it commits the offsets', async () => {
    const { cluster, clock, d, seen } = oneWorker();
    const calls: SinkCall[] = [];
    const written: SinkRecord<string, string>[] = [];
    cluster.onEvent((e) => {
      if (e.type === 'offsets-committed') calls.push(`commit ${e.via} ${e.offsets.map((o) => `${o.topic}:${o.partition}=${o.offset}`).join(',')}`);
    });
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen, recordingSink(calls, written)) });
    expect(thread.mode).toBe('sink-fenced');
    await produceItems(d, 0, ['a', 'b', 'c']);
    void thread.start();
    await cluster.until(() => seen.length === 3, { description: 'the first batch' });
    clock.advance(1_000);
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 3n, { description: 'the first commit' });
    await produceItems(d, 0, ['d', 'e']);
    await cluster.until(() => seen.length === 5, { description: 'the second batch' });
    clock.advance(1_000);
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 5n, { description: 'the second commit' });

    expect(calls).toEqual(['open p0', 'write in:0@0,1,2', 'flush', 'commit commitSync in:0=3', 'write in:0@3,4', 'flush', 'commit commitSync in:0=5']);
    expect(written.map((r) => r.value)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(cluster.faults.count('begin')).toBe(0);
  });

  it('commits no offset past a failed flush: the batch is replayed into a reopened sink, then committed', async () => {
    const { cluster, clock, d, seen } = oneWorker();
    const calls: SinkCall[] = [];
    const written: SinkRecord<string, string>[] = [];
    cluster.onEvent((e) => {
      if (e.type === 'offsets-committed') calls.push(`commit ${e.offsets.map((o) => `${o.topic}:${o.partition}=${o.offset}`).join(',')}`);
    });
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen, recordingSink(calls, written, 1)) });
    await produceItems(d, 0, ['a', 'b', 'c']);
    clock.advance(1_000);
    void thread.start();
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 3n, { description: 'the commit after the replay' });
    expect(calls).toEqual(['open p0', 'write in:0@0,1,2', 'flush failed', 'close', 'open p0', 'write in:0@0,1,2', 'flush', 'commit in:0=3']);
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });
});

describe('StreamThread on the fake driver: poison records', () => {
  it.each([
    ['transactional', 'exactly_once_v2', false],
    ['at-least-once', 'at_least_once', false],
    ['sink-fenced', 'exactly_once_v2', true],
  ] as const)('dead-letters records that cannot be read or processed and goes on (%s)', async (mode, processingGuarantee, toSink) => {
    const { cluster, clock, d, seen } = oneWorker();
    const calls: SinkCall[] = [];
    const written: SinkRecord<string, string>[] = [];
    const thread = createThread({ driver: d, clock, topology: itemTopology(seen, toSink ? recordingSink(calls, written) : undefined), config: { processingGuarantee } });
    expect(thread.mode).toBe(mode);
    const producer = await d.createProducer();
    await producer.send(
      ['{"n":"a"}', 'not json', '{"n":"poison"}', '{"n":"b"}'].map((v, i) => ({ topic: 'in', partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(v) })),
    );
    clock.advance(1_000);
    void thread.start();
    await cluster.until(() => cluster.committedOffset(thread.groupId, tp0) === 4n, { description: 'the batch to be committed' });

    const outputs = toSink ? written.map((r) => r.value) : valuesOf(cluster.records('out'));
    expect(outputs).toEqual(['A', 'B']);
    const dlq = cluster.records('in-dlq');
    expect(dlq.map((r) => `${r.key?.toString()} ${r.value?.toString()}`)).toEqual(['k1 not json', 'k2 {"n":"poison"}']);
    const headers = dlq.map((r) => Object.fromEntries(r.headers.map(([k, v]) => [k, v.toString()])));
    expect(headers.map((h) => [h['source-topic'], h['source-partition'], h['source-offset']])).toEqual([
      ['in', '0', '1'],
      ['in', '0', '2'],
    ]);
    expect(headers[0].error).toMatch(/invalid JSON/);
    expect(headers[1].error).toBe('cannot process poison');
    expect(seen).toEqual(['a', 'poison', 'b']);
    // Dead letters go with the outputs: in the transaction, or acknowledged before the offsets.
    expect(cluster.entries('in-dlq').every((e) => (mode === 'transactional' ? e.txn?.status === 'committed' : e.txn === null))).toBe(true);
  });
});
