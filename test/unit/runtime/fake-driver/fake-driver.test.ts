import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../runtime/clock.js';
import type { ConsumedRecord, GroupConsumer, GroupConsumerOptions, TopicPartition } from '../../../../runtime/kafka/driver.js';
import { FencedError, KafkaDriverError, NoOffsetError, TransactionError } from '../../../../runtime/kafka/errors.js';
import { FakeCluster, FakeKafkaDriver } from '../../../../runtime/kafka/fake/index.js';
import { TopicMismatchError } from '../../../../runtime/kafka/topic-admin.js';
import { partitionForKey } from '../../../../runtime/partitioner.js';

/**
 * The fake's own contract: the semantics of the real driver (driver.ts, platformatic/*) that the
 * runtime depends on, so that tests of the runtime on the fake mean something.
 */

const b = (s: string): Buffer => Buffer.from(s);
const values = (records: readonly ConsumedRecord[]): string[] => records.map((r) => r.value?.toString() ?? '<null>');
const rec = (value: string, partition = 0) => ({ topic: 't', partition, key: null, value: b(value) });

function setup(partitions = 1): { cluster: FakeCluster; driver: FakeKafkaDriver } {
  const cluster = new FakeCluster({ clock: new ManualClock(1_000) });
  cluster.createTopic('t', partitions);
  return { cluster, driver: new FakeKafkaDriver({ cluster, name: 'p1' }) };
}

interface Callbacks {
  readonly calls: string[];
  readonly options: Pick<GroupConsumerOptions, 'onRevoked' | 'onAssigned'>;
}

/** Records every rebalance callback as `revoked|assigned g<generation> t:0,t:1`. */
function callbacks(): Callbacks {
  const calls: string[] = [];
  const fmt = (kind: string, tps: readonly TopicPartition[], generation: number) => `${kind} g${generation} ${tps.map((tp) => `${tp.topic}:${tp.partition}`).join(',')}`;
  return {
    calls,
    options: {
      onRevoked: (tps, g) => void calls.push(fmt('revoked', tps, g.generationId)),
      onAssigned: (tps, g) => void calls.push(fmt('assigned', tps, g.generationId)),
    },
  };
}

describe('FakeKafkaDriver: transactions and read_committed', () => {
  it('hides open and aborted transactions from read_committed, and the open one holds later records back', async () => {
    const { cluster, driver } = setup();
    const plain = await driver.createProducer();
    const tx1 = await driver.createTransactionalProducer({ transactionalId: 'tx1' });
    const tx2 = await driver.createTransactionalProducer({ transactionalId: 'tx2' });
    await plain.send([rec('a')]); // 0
    await tx1.begin();
    expect((await tx1.send([rec('open-1'), rec('open-2')])).offsets).toEqual([{ topic: 't', partition: 0, offset: 1n }]); // 1, 2
    await tx2.begin();
    await tx2.send([rec('aborted')]); // 3
    await tx2.abort(); // marker 4
    await plain.send([rec('b')]); // 5

    const log = cluster.log({ topic: 't', partition: 0 });
    expect([log.highWatermark, log.lastStable]).toEqual([6n, 1n]);
    expect(values(cluster.records('t', 'read_committed'))).toEqual(['a']);
    expect(values(cluster.records('t', 'read_uncommitted'))).toEqual(['a', 'open-1', 'open-2', 'aborted', 'b']);
    const admin = driver.createAdmin();
    expect(await admin.endOffsets(['t'], 'read_committed')).toEqual([{ topic: 't', partition: 0, offset: 1n }]);
    expect(await admin.endOffsets(['t'], 'read_uncommitted')).toEqual([{ topic: 't', partition: 0, offset: 6n }]);

    await tx1.commit(); // marker 7
    expect([log.highWatermark, log.lastStable]).toEqual([7n, 7n]);
    expect(values(cluster.records('t'))).toEqual(['a', 'open-1', 'open-2', 'b']);
    expect(cluster.entries('t').map((e) => `${e.offset}:${e.kind}:${e.txn?.status ?? '-'}`)).toEqual([
      '0:record:-',
      '1:record:committed',
      '2:record:committed',
      '3:record:aborted',
      '4:marker:aborted',
      '5:record:-',
      '6:marker:committed',
    ]);

    const reader = await driver.createReader({ partitions: [{ topic: 't', partition: 0, from: 'earliest' }] });
    const read: ConsumedRecord[] = [];
    const result = await reader.readToEnd((batch) => void read.push(...batch));
    expect(result).toEqual({ records: 4, end: [{ topic: 't', partition: 0, offset: 7n }] });
    expect(read.map((r) => `${r.offset}:${r.value?.toString()}`)).toEqual(['0:a', '1:open-1', '2:open-2', '5:b']);
    expect(reader.position({ topic: 't', partition: 0 })).toBe(7n);
  });

  it('partitions keyed records with Java murmur2, honours explicit partitions and refuses missing ones', async () => {
    const { cluster, driver } = setup(5);
    const producer = await driver.createProducer();
    const keys = ['alice', 'bob', 'carol', 'dave'];
    await producer.send(keys.map((k) => ({ topic: 't', key: b(k), value: b(k) })));
    for (const k of keys) {
      const p = partitionForKey(b(k), 5);
      expect(values(cluster.log({ topic: 't', partition: p }).read(0n, 'read_committed', 100).records)).toContain(k);
    }
    await producer.send([{ topic: 't', partition: 4, key: b('alice'), value: b('pinned') }]);
    expect(values(cluster.log({ topic: 't', partition: 4 }).read(0n, 'read_committed', 100).records)).toContain('pinned');
    await expect(producer.send([{ topic: 't', partition: 5, key: null, value: b('x') }])).rejects.toBeInstanceOf(KafkaDriverError);
    await expect(producer.send([{ topic: 'nope', key: null, value: b('x') }])).rejects.toBeInstanceOf(KafkaDriverError);
  });
});

describe('FakeKafkaDriver: producer fencing', () => {
  it('a new producer with the same transactionalId aborts the old one\'s transaction and fences it for good', async () => {
    const { cluster, driver } = setup();
    const old = await driver.createTransactionalProducer({ transactionalId: 'app-1' });
    await old.begin();
    await old.send([rec('zombie')]);
    const fresh = await driver.createTransactionalProducer({ transactionalId: 'app-1' });
    expect(cluster.entries('t').map((e) => `${e.kind}:${e.txn?.status}`)).toEqual(['record:aborted', 'marker:aborted']);

    const fenced = await old.send([rec('late')]).catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(FencedError);
    expect((fenced as FencedError).kind).toBe('producer');
    await expect(old.begin()).rejects.toMatchObject({ kind: 'producer' });
    await expect(old.abort()).rejects.toMatchObject({ kind: 'producer' });
    expect(old.inTransaction).toBe(false);
    await old.close();

    await fresh.begin();
    await fresh.send([rec('fresh')]);
    await fresh.commit();
    expect(values(cluster.records('t'))).toEqual(['fresh']);
  });

  it('cluster.fenceProducer and a transaction timeout fence the current producer the same way', async () => {
    const clock = new ManualClock(0);
    const cluster = new FakeCluster({ clock });
    cluster.createTopic('t', 1);
    const driver = new FakeKafkaDriver({ cluster });
    const p = await driver.createTransactionalProducer({ transactionalId: 'x' });
    await p.begin();
    await p.send([rec('1')]);
    cluster.fenceProducer('x');
    await expect(p.commit()).rejects.toMatchObject({ kind: 'producer' });

    const q = await driver.createTransactionalProducer({ transactionalId: 'y', transactionTimeoutMs: 1_000 });
    await q.begin();
    await q.send([rec('2')]);
    clock.advance(1_001);
    expect(cluster.expireTransactions()).toBe(1);
    await expect(q.commit()).rejects.toMatchObject({ kind: 'producer' });
    expect(values(cluster.records('t'))).toEqual([]);
    expect(cluster.log({ topic: 't', partition: 0 }).lastStable).toBe(4n);
  });

  it('refuses a second begin and calls outside a transaction with TransactionError', async () => {
    const { driver } = setup();
    const p = await driver.createTransactionalProducer({ transactionalId: 'x' });
    await expect(p.send([rec('a')])).rejects.toBeInstanceOf(TransactionError);
    await p.begin();
    await expect(p.begin()).rejects.toBeInstanceOf(TransactionError);
    await p.abort();
    await p.abort(); // nothing open: a no-op, as the real one
  });
});

describe('FakeKafkaDriver: groups and generations', () => {
  it('delivers rebalances from poll(): only leaving partitions revoked, then positions, then assigned', async () => {
    const { driver } = setup(4);
    const a = callbacks();
    const ca = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], ...a.options });
    expect(() => ca.groupMetadata()).toThrow(KafkaDriverError);
    expect(await ca.poll({ maxWaitMs: 1 })).toEqual([]);
    expect(a.calls).toEqual(['assigned g1 t:0,t:1,t:2,t:3']);
    expect(ca.groupMetadata().generationId).toBe(1);

    const bb = callbacks();
    const cb = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], ...bb.options });
    // A still believes in generation 1 until it polls.
    expect(ca.groupMetadata().generationId).toBe(1);
    expect(ca.assignment()).toHaveLength(4);
    await ca.poll({ maxWaitMs: 1 });
    await cb.poll({ maxWaitMs: 1 });
    expect(a.calls).toEqual(['assigned g1 t:0,t:1,t:2,t:3', 'revoked g2 t:2,t:3']);
    expect(bb.calls).toEqual(['assigned g2 t:2,t:3']);
    expect([ca.groupMetadata().generationId, cb.groupMetadata().generationId]).toEqual([2, 2]);

    // A rebalance that moves nothing: a new generation, no callbacks.
    driver.cluster.rebalance('g');
    await ca.poll({ maxWaitMs: 1 });
    expect(a.calls).toHaveLength(2);
    expect(ca.groupMetadata().generationId).toBe(3);

    await cb.close();
    await ca.poll({ maxWaitMs: 1 });
    expect(a.calls.at(-1)).toBe('assigned g4 t:2,t:3');
  });

  it('sendOffsets with a stale generation raises FencedError(group); the producer stays usable', async () => {
    const { cluster, driver } = setup(2);
    const ca = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    await ca.poll({ maxWaitMs: 1 });
    const p = await driver.createTransactionalProducer({ transactionalId: 'x' });
    await p.begin();
    await p.send([rec('out')]);
    await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] }); // generation 2; A has not polled
    const err = await p.sendOffsets(ca, [{ topic: 't', partition: 0, offset: 1n }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FencedError);
    expect((err as FencedError).kind).toBe('group');
    await p.abort();
    expect(cluster.committedOffset('g', { topic: 't', partition: 0 })).toBeNull();

    await ca.poll({ maxWaitMs: 1 });
    await p.begin();
    await p.sendOffsets(ca, [{ topic: 't', partition: 0, offset: 1n }]);
    await p.commit();
    expect(cluster.committedOffset('g', { topic: 't', partition: 0 })).toBe(1n);
    expect(values(cluster.records('t'))).toEqual([]);
  });

  it('commitSync is refused the same way between a rebalance and the member\'s next poll', async () => {
    const { cluster, driver } = setup();
    const c = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    await c.poll({ maxWaitMs: 1 });
    await c.commitSync([{ topic: 't', partition: 0, offset: 3n }]);
    cluster.rebalance('g');
    await expect(c.commitSync([{ topic: 't', partition: 0, offset: 4n }])).rejects.toMatchObject({ kind: 'group' });
    await c.poll({ maxWaitMs: 1 });
    await c.commitSync([{ topic: 't', partition: 0, offset: 4n }]);
    expect(await driver.createAdmin().committedOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 4n }]);
  });

  it('a removed member rejoins at its next poll under a new member id and generation', async () => {
    const { cluster, driver } = setup();
    const a = callbacks();
    const c = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], ...a.options });
    await c.poll({ maxWaitMs: 1 });
    const before = c.groupMetadata();
    cluster.removeMember('g', before.memberId);
    expect(cluster.groupView('g').members).toEqual([]);
    await c.poll({ maxWaitMs: 1 });
    expect(c.groupMetadata().memberId).not.toBe(before.memberId);
    expect(c.groupMetadata().generationId).toBe(3);
    expect(a.calls).toEqual(['assigned g1 t:0']); // the same partition again: no callback, as with the real driver
  });

  it('a static member replaced by a newer one with the same instance id is fenced for good', async () => {
    const { cluster, driver } = setup();
    const old = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], groupInstanceId: 'slot-1' });
    await old.poll({ maxWaitMs: 1 });
    const fresh = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], groupInstanceId: 'slot-1' });
    await fresh.poll({ maxWaitMs: 1 });
    await expect(old.poll({ maxWaitMs: 1 })).rejects.toThrow(/FENCED_INSTANCE_ID/);
    expect(cluster.groupView('g').members.map((m) => m.memberId)).toEqual([fresh.groupMetadata().memberId]);
    expect(fresh.groupMetadata().groupInstanceId).toBe('slot-1');
  });

  it('starts from committed offsets, else by autoOffsetReset; none raises NoOffsetError', async () => {
    const { driver } = setup(2);
    const producer = await driver.createProducer();
    await producer.send([rec('a', 0), rec('b', 0), rec('c', 1)]);
    const seed = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    await seed.poll({ maxWaitMs: 1 });
    await seed.commitSync([{ topic: 't', partition: 0, offset: 1n }]);
    await seed.close();

    const latest = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], autoOffsetReset: 'latest' });
    expect(values(await latest.poll({ maxWaitMs: 1 }))).toEqual(['b']);
    await latest.close();
    const earliest = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    expect(values(await earliest.poll({ maxWaitMs: 1 }))).toEqual(['b', 'c']);
    await earliest.close();
    const none = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'], autoOffsetReset: 'none' });
    await expect(none.poll({ maxWaitMs: 1 })).rejects.toBeInstanceOf(NoOffsetError);
    await expect(none.poll({ maxWaitMs: 1 })).rejects.toBeInstanceOf(KafkaDriverError); // unusable afterwards
  });

  it('committed() waits (require_stable) while an open transaction holds offsets of the group', async () => {
    const { cluster, driver } = setup();
    const c = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    await c.poll({ maxWaitMs: 1 });
    const p = await driver.createTransactionalProducer({ transactionalId: 'x' });
    await p.begin();
    await p.sendOffsets(c, [{ topic: 't', partition: 0, offset: 7n }]);
    let settled: bigint | null | undefined;
    const reading = c.committed().then((r) => (settled = r[0].offset));
    await cluster.until(() => cluster.unstableWaits === 1, { description: 'the read to wait' });
    expect(settled).toBeUndefined();
    await p.commit();
    await reading;
    expect(settled).toBe(7n);
  });
});

describe('FakeKafkaDriver: faults', () => {
  it('failNext throws once for the matching call; pauseNext holds a call until released', async () => {
    const { cluster, driver } = setup();
    const other = new FakeKafkaDriver({ cluster, name: 'p2' });
    const p = await driver.createProducer();
    cluster.faults.failNext('produce', new KafkaDriverError('boom'), { driver: 'p2' });
    await p.send([rec('not p2')]);
    const q = await other.createProducer();
    await expect(q.send([rec('lost')])).rejects.toThrow('boom');
    await q.send([rec('retried')]);
    expect(values(cluster.records('t'))).toEqual(['not p2', 'retried']);

    const c: GroupConsumer = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    const gate = cluster.faults.pauseNext('poll', { target: 'g' });
    let polled: string[] | undefined;
    const polling = c.poll({ maxWaitMs: 1 }).then((r) => (polled = values(r)));
    expect(await gate.reached).toEqual({ op: 'poll', driver: 'p1', target: 'g' });
    await p.send([rec('while paused')]);
    expect(polled).toBeUndefined();
    gate.release();
    await polling;
    expect(polled).toEqual(['not p2', 'retried', 'while paused']);
    expect(cluster.faults.count('poll')).toBe(1);
  });
});

describe('FakeKafkaDriver: admin', () => {
  it('ensures topics, reports offsets and groups, deletes them', async () => {
    const { cluster, driver } = setup(2);
    const admin = driver.createAdmin();
    expect(await admin.ensureTopics([
      { name: 't', partitions: 2, replicationFactor: 1, configs: {} },
      { name: 'u', partitions: 3, replicationFactor: 1, configs: {} },
    ])).toEqual({ created: ['u'], found: ['t'] });
    await expect(admin.ensureTopics([{ name: 'u', partitions: 4, replicationFactor: 1, configs: {} }])).rejects.toBeInstanceOf(TopicMismatchError);
    expect(await admin.partitionCounts(['t', 'u'])).toEqual(new Map([['t', 2], ['u', 3]]));
    await expect(admin.partitionCounts(['nope'])).rejects.toBeInstanceOf(KafkaDriverError);

    const producer = await driver.createProducer();
    await producer.send([rec('a', 1), rec('b', 1), rec('c', 1)]);
    cluster.log({ topic: 't', partition: 1 }).deleteBefore(2n);
    expect(await admin.beginningOffsets(['t'])).toEqual([{ topic: 't', partition: 0, offset: 0n }, { topic: 't', partition: 1, offset: 2n }]);

    const c = await driver.createGroupConsumer({ groupId: 'g', topics: ['t'] });
    expect(values(await c.poll({ maxWaitMs: 1 }))).toEqual(['c']); // position 0 is out of range: reset to the log start
    await c.commitSync([{ topic: 't', partition: 1, offset: 3n }]);
    expect(await admin.committedOffsets('g', ['t'])).toEqual([{ topic: 't', partition: 1, offset: 3n }]);
    await expect(admin.deleteGroups(['g'])).rejects.toBeInstanceOf(KafkaDriverError);
    await c.close();
    await admin.deleteGroups(['g']);
    expect(await admin.committedOffsets('g')).toEqual([]);
    await admin.deleteTopics(['u']);
    expect(cluster.topicNames()).toEqual(['t']);
  });
});
