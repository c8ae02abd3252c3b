import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord, GroupConsumer, GroupMetadata, KafkaAdmin, KafkaDriver, TopicPartition, TopicPartitionOffset } from '../../../runtime/kafka/driver.js';
import { FencedError } from '../../../runtime/kafka/errors.js';
import { partitionForKey } from '../../../runtime/partitioner.js';
import { waitUntil } from '../../support/poll.js';
import { services, uniquePrefix } from '../../support/services.js';

/**
 * The driver contract, shared by the driver implementations (driver.test.ts runs it on each). The
 * KIP-447 case runs only on a driver whose offsets are fenced by generation. The Kafka driver against a real broker (Kafka 4.1, KRaft, transactions on, no topic auto-creation).
 * Every topic and group name carries a unique prefix; topics and groups are deleted at the end.
 */

const TEST_TIMEOUT = 60_000;

/** Registers the contract cases for the driver `makeDriver` builds (a fresh one per file). */
export function driverContract(name: string, makeDriver: (brokers: string) => KafkaDriver): void {
  // A driver is made without connecting: this one only answers what the client can do.
  const { fencesOffsetsByGeneration } = makeDriver('127.0.0.1:9');
  describe(`kafka driver (${name}) against a real broker`, () => {

  let driver: KafkaDriver;
  let admin: KafkaAdmin;
  const topicsToDelete: string[] = [];
  const groupsToDelete: string[] = [];

  beforeAll(() => {
    driver = makeDriver(services().brokers);
    admin = driver.createAdmin();
  });

  afterAll(async () => {
    await admin.deleteGroups(groupsToDelete).catch(() => undefined);
    await admin.deleteTopics(topicsToDelete).catch(() => undefined);
    await admin.close();
  });

  async function createTopic(name: string, partitions: number): Promise<string> {
    await admin.ensureTopics([{ name, partitions, replicationFactor: 1, configs: {} }]);
    topicsToDelete.push(name);
    return name;
  }

  function group(name: string): string {
    groupsToDelete.push(name);
    return name;
  }

  const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
  const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

  /** topic:partition@offset key=value, for exact list comparisons. */
  function show(r: ConsumedRecord): string {
    return `${r.topic.slice(r.topic.lastIndexOf('-') + 1)}:${r.partition}@${r.offset} ${str(r.key)}=${str(r.value)}`;
  }

  /**
   * A commit returns once the coordinator has decided; the markers reach the partitions a moment later, and
   * only then does the last stable offset move. Waits until no transaction is open on the topics.
   */
  async function waitStable(topics: string[], timeoutMs = 10_000): Promise<void> {
    await waitUntil(
      async () => {
        const [lso, hw] = await Promise.all([admin.endOffsets(topics, 'read_committed'), admin.endOffsets(topics, 'read_uncommitted')]);
        return lso.every((e, i) => e.offset === hw[i].offset);
      },
      `no open transaction on ${topics.join(', ')}`,
      { timeoutMs, intervalMs: 20 },
    );
  }

  async function readAll(topic: string, partitions: number, isolation: 'read_committed' | 'read_uncommitted', stable = true): Promise<ConsumedRecord[]> {
    if (stable) await waitStable([topic]);
    const reader = await driver.createReader({
      isolation,
      partitions: Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: 'earliest' as const })),
    });
    try {
      const out: ConsumedRecord[] = [];
      await reader.readToEnd((batch) => void out.push(...batch), { timeoutMs: 20_000 });
      return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
    } finally {
      await reader.close();
    }
  }

  /** Polls until `until` holds or the deadline passes; returns everything polled. */
  async function pollUntil(consumer: GroupConsumer, until: (all: ConsumedRecord[]) => boolean, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
    const all: ConsumedRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!until(all)) {
      if (Date.now() > deadline) throw new Error(`pollUntil timed out after ${all.length} records, assignment ${JSON.stringify(consumer.assignment())}`);
      all.push(...(await consumer.poll({ maxWaitMs: 200 })));
    }
    return all;
  }

  const tps = (list: readonly TopicPartition[]): string[] => list.map((tp) => `${tp.topic}:${tp.partition}`).sort();

    it(
      'transactional produce: committed records are visible to read_committed, aborted ones are not',
      async () => {
        const prefix = uniquePrefix('drv-txn');
        const topic = await createTopic(`${prefix}out`, 1);
        const producer = await driver.createTransactionalProducer({ transactionalId: `${prefix}tx` });
        try {
          const txn = async (keys: string[], commit: boolean, extra: { headers?: [string, Buffer][]; nullValue?: boolean } = {}) => {
            await producer.begin();
            expect(producer.inTransaction).toBe(true);
            // one send per record: several batches per transaction
            for (const k of keys) {
              await producer.send([{ topic, partition: 0, key: buf(k), value: extra.nullValue ? null : buf(`v-${k}`), headers: extra.headers ?? [] }]);
            }
            if (commit) await producer.commit();
            else await producer.abort();
            expect(producer.inTransaction).toBe(false);
          };
          // offsets: data records, then one commit/abort marker per transaction
          await txn(['k0', 'k1', 'k2'], true); // 0,1,2 + marker 3
          await txn(['a0', 'a1'], false); // 4,5 + marker 6
          await txn(['k3'], true, { headers: [['h', buf('x')], ['h', buf('y')]] }); // 7 + marker 8
          await txn(['a2'], false); // 9 + marker 10
          await txn(['a3', 'a4'], false); // 11,12 + marker 13
          await txn(['k4'], true, { nullValue: true }); // 14 + marker 15

          await waitStable([topic]);
          const committed = await readAll(topic, 1, 'read_committed');
          expect(committed.map(show)).toEqual(['out:0@0 k0=v-k0', 'out:0@1 k1=v-k1', 'out:0@2 k2=v-k2', 'out:0@7 k3=v-k3', 'out:0@14 k4=null']);
          const k3 = committed[3];
          expect(k3.headers.map(([n, v]) => `${n}=${v.toString()}`)).toEqual(['h=x', 'h=y']);
          expect(typeof k3.timestamp).toBe('number');
          expect(Math.abs(k3.timestamp - Date.now())).toBeLessThan(60_000);

          const uncommitted = await readAll(topic, 1, 'read_uncommitted');
          expect(uncommitted.map((r) => `${r.offset}:${str(r.key)}`)).toEqual(['0:k0', '1:k1', '2:k2', '4:a0', '5:a1', '7:k3', '9:a2', '11:a3', '12:a4', '14:k4']);

          expect(await admin.endOffsets([topic], 'read_committed')).toEqual([{ topic, partition: 0, offset: 16n }]);
          expect(await admin.endOffsets([topic], 'read_uncommitted')).toEqual([{ topic, partition: 0, offset: 16n }]);
          expect(await admin.beginningOffsets([topic])).toEqual([{ topic, partition: 0, offset: 0n }]);
          expect(await admin.partitionCounts([topic])).toEqual(new Map([[topic, 1]]));
        } finally {
          await producer.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'an open transaction holds back read_committed readers (last stable offset) but not read_uncommitted ones',
      async () => {
        const prefix = uniquePrefix('drv-lso');
        const topic = await createTopic(`${prefix}out`, 1);
        const producer = await driver.createTransactionalProducer({ transactionalId: `${prefix}tx` });
        const plain = await driver.createProducer();
        try {
          await plain.send([{ topic, partition: 0, key: buf('p0'), value: buf('plain') }]); // offset 0
          await producer.begin();
          await producer.send([{ topic, partition: 0, key: buf('t0'), value: buf('open') }]); // offset 1, open
          expect(await admin.endOffsets([topic], 'read_committed')).toEqual([{ topic, partition: 0, offset: 1n }]);
          expect(await admin.endOffsets([topic], 'read_uncommitted')).toEqual([{ topic, partition: 0, offset: 2n }]);
          expect((await readAll(topic, 1, 'read_committed', false)).map(show)).toEqual(['out:0@0 p0=plain']);
          await producer.commit(); // marker at 2
          await waitStable([topic]);
          expect(await admin.endOffsets([topic], 'read_committed')).toEqual([{ topic, partition: 0, offset: 3n }]);
          expect((await readAll(topic, 1, 'read_committed')).map(show)).toEqual(['out:0@0 p0=plain', 'out:0@1 t0=open']);
        } finally {
          await producer.close();
          await plain.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'partitioning: explicit partitions are honoured, keyed records use the Java-compatible murmur2 partitioner',
      async () => {
        const prefix = uniquePrefix('drv-part');
        const topic = await createTopic(`${prefix}keys`, 5);
        const producer = await driver.createProducer();
        try {
          const keys = Array.from({ length: 20 }, (_, i) => `voter-${i}`);
          await producer.send(keys.map((k) => ({ topic, key: buf(k), value: buf('auto') })));
          await producer.send([{ topic, partition: 3, key: buf('voter-0'), value: buf('explicit') }]);
          await expect(producer.send([{ topic, partition: 5, key: null, value: buf('x') }])).rejects.toThrow(/partition 5 does not exist/);
          const records = await readAll(topic, 5, 'read_committed');
          const auto = records.filter((r) => str(r.value) === 'auto');
          expect(auto).toHaveLength(20);
          for (const r of auto) expect(r.partition).toBe(partitionForKey(r.key as Buffer, 5));
          // Reference values from Java's Utils.murmur2 test vectors, % 5 after toPositive.
          expect(partitionForKey(buf('21'), 5)).toBe((-973932308 & 0x7fffffff) % 5);
          const explicit = records.filter((r) => str(r.value) === 'explicit');
          expect(explicit.map((r) => r.partition)).toEqual([3]);
        } finally {
          await producer.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'consume-transform-produce: offsets committed in the transaction equal the end, a second run reads nothing',
      async () => {
        const prefix = uniquePrefix('drv-ctp');
        const input = await createTopic(`${prefix}in`, 2);
        const output = await createTopic(`${prefix}out`, 2);
        const groupId = group(`${prefix}group`);
        const N = 10;
        const source = await driver.createProducer();
        await source.send(Array.from({ length: N }, (_, i) => ({ topic: input, partition: i % 2, key: buf(`k${i}`), value: buf(`v${i}`) })));
        await source.close();

        const assigned: string[][] = [];
        const consumer = await driver.createGroupConsumer({
          groupId,
          topics: [input],
          heartbeatIntervalMs: 500,
          onAssigned: (partitions) => void assigned.push(tps(partitions)),
        });
        const producer = await driver.createTransactionalProducer({ transactionalId: `${prefix}tx` });
        try {
          const records = await pollUntil(consumer, (all) => all.length >= N);
          expect(records).toHaveLength(N);
          expect(assigned).toEqual([[`${input}:0`, `${input}:1`]]);
          const meta: GroupMetadata = consumer.groupMetadata();
          expect(meta.groupId).toBe(groupId);
          expect(meta.generationId).toBeGreaterThan(0);
          expect(meta.memberId.length).toBeGreaterThan(0);

          await producer.begin();
          await producer.send(records.map((r) => ({ topic: output, partition: r.partition, key: r.key, value: buf(str(r.value)!.toUpperCase()) })));
          const next: TopicPartitionOffset[] = consumer.assignment().map((tp) => ({ ...tp, offset: consumer.position(tp)! }));
          expect(next).toEqual([
            { topic: input, partition: 0, offset: 5n },
            { topic: input, partition: 1, offset: 5n },
          ]);
          await producer.sendOffsets(consumer, next);
          await producer.commit();

          const end = await admin.endOffsets([input]);
          expect(end).toEqual(next);
          expect(await admin.committedOffsets(groupId, [input])).toEqual(end);
          expect(await consumer.committed()).toEqual(next);
          const out = await readAll(output, 2, 'read_committed');
          expect(out.map((r) => `${r.partition}@${r.offset} ${str(r.key)}=${str(r.value)}`)).toEqual([
            '0@0 k0=V0',
            '0@1 k2=V2',
            '0@2 k4=V4',
            '0@3 k6=V6',
            '0@4 k8=V8',
            '1@0 k1=V1',
            '1@1 k3=V3',
            '1@2 k5=V5',
            '1@3 k7=V7',
            '1@4 k9=V9',
          ]);
        } finally {
          await consumer.close();
          await producer.close();
        }

        // Second run of the same group: starts after the committed offsets.
        const again = await driver.createGroupConsumer({ groupId, topics: [input], heartbeatIntervalMs: 500 });
        try {
          const seen: ConsumedRecord[] = [];
          for (let i = 0; i < 4; i++) seen.push(...(await again.poll({ maxWaitMs: 250 })));
          expect(seen).toEqual([]);
          expect(again.assignment().map((tp) => again.position(tp))).toEqual([5n, 5n]);
        } finally {
          await again.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'fencing: a second producer with the same transactionalId fences the first',
      async () => {
        const prefix = uniquePrefix('drv-fence');
        const topic = await createTopic(`${prefix}out`, 1);
        const transactionalId = `${prefix}tx`;
        const older = await driver.createTransactionalProducer({ transactionalId });
        let newer: Awaited<ReturnType<typeof driver.createTransactionalProducer>> | null = null;
        try {
          await older.begin();
          await older.send([{ topic, partition: 0, key: buf('zombie'), value: buf('1') }]);
          newer = await driver.createTransactionalProducer({ transactionalId }); // InitProducerId: bumps the epoch, aborts older's transaction
          const error = await older.commit().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(FencedError);
          expect((error as FencedError).code).toBe('FENCED');
          expect((error as FencedError).kind).toBe('producer');
          await expect(older.begin()).rejects.toBeInstanceOf(FencedError);

          await newer.begin();
          await newer.send([{ topic, partition: 0, key: buf('live'), value: buf('2') }]);
          await newer.commit();
          expect((await readAll(topic, 1, 'read_committed')).map((r) => str(r.key))).toEqual(['live']);
        } finally {
          await older.close();
          await newer?.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'fencing by partition (no KIP-447 needed): the new owner\'s producer for the partition aborts the old owner\'s transaction, offsets included, and fences it; the offsets read next are final',
      async () => {
        const prefix = uniquePrefix('drv-part');
        const input = await createTopic(`${prefix}in`, 1);
        const output = await createTopic(`${prefix}out`, 1);
        const groupId = group(`${prefix}group`);
        const transactionalId = `${prefix}app-sub-0`;
        const source = await driver.createProducer();
        await source.send([0, 1, 2, 3].map((i) => ({ topic: input, partition: 0, key: buf(`k${i}`), value: buf(`v${i}`) })));
        await source.close();

        // A processes the partition and is frozen inside its commit: outputs and offsets sent, not committed.
        const a = await driver.createGroupConsumer({ groupId, topics: [input], heartbeatIntervalMs: 300 });
        const old = await driver.createTransactionalProducer({ transactionalId });
        let b: GroupConsumer | null = null;
        let owner: Awaited<ReturnType<KafkaDriver['createTransactionalProducer']>> | null = null;
        try {
          const records = await pollUntil(a, (all) => all.length >= 4);
          await old.begin();
          await old.send(records.map((r) => ({ topic: output, partition: 0, key: r.key, value: r.value })));
          await old.sendOffsets(a, [{ topic: input, partition: 0, offset: a.position({ topic: input, partition: 0 })! }]);
          // Its session ends (it leaves the group); its producer lives on, a zombie.
          await a.close();

          // The new owner's producer for the partition first: its InitProducerId ends A's transaction
          // (else a require_stable client's join would wait for the broker to time it out).
          owner = await driver.createTransactionalProducer({ transactionalId });
          b = await driver.createGroupConsumer({ groupId, topics: [input], heartbeatIntervalMs: 300 });
          await pollUntil(b, () => b!.assignment().length > 0, 10_000);
          expect(await b.committed([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: null }]);
          const error = await old.commit().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(FencedError);
          expect((error as FencedError).kind).toBe('producer');
          expect(await admin.committedOffsets(groupId, [input])).toEqual([]);
          expect(await readAll(output, 1, 'read_committed')).toEqual([]);

          await b.seekToCommitted();
          const again = await pollUntil(b, (all) => all.length >= 4);
          await owner.begin();
          await owner.send(again.map((r) => ({ topic: output, partition: 0, key: r.key, value: r.value })));
          await owner.sendOffsets(b, [{ topic: input, partition: 0, offset: b.position({ topic: input, partition: 0 })! }]);
          await owner.commit();
          expect(await admin.committedOffsets(groupId, [input])).toEqual([{ topic: input, partition: 0, offset: 4n }]);
          expect((await readAll(output, 1, 'read_committed')).map((r) => str(r.value))).toEqual(['v0', 'v1', 'v2', 'v3']);
        } finally {
          await b?.close();
          await old.close().catch(() => undefined);
          await owner?.close();
        }
      },
      TEST_TIMEOUT,
    );

    // Only a client whose transactional offset commits carry the generation can pass this (kafkajs 2.2.4 cannot).
    if (fencesOffsetsByGeneration) it(
      'fencing (KIP-447): offsets sent with a stale group generation fail with FencedError, then the member continues',
      async () => {
        const prefix = uniquePrefix('drv-gen');
        const input = await createTopic(`${prefix}in`, 2);
        const output = await createTopic(`${prefix}out`, 2);
        const groupId = group(`${prefix}group`);
        const source = await driver.createProducer();
        await source.send([0, 1, 2, 3].map((i) => ({ topic: input, partition: i % 2, key: buf(`k${i}`), value: buf(`v${i}`) })));
        await source.close();

        const revokedA: string[][] = [];
        const a = await driver.createGroupConsumer({ groupId, topics: [input], heartbeatIntervalMs: 300, onRevoked: (p) => void revokedA.push(tps(p)) });
        const producer = await driver.createTransactionalProducer({ transactionalId: `${prefix}tx` });
        let b: GroupConsumer | null = null;
        try {
          const records = await pollUntil(a, (all) => all.length >= 4);
          const staleMeta = a.groupMetadata();
          await producer.begin();
          await producer.send(records.map((r) => ({ topic: output, partition: r.partition, key: r.key, value: r.value })));

          // B joins; the group rebalances (A rejoins in the background). A has not polled since: its
          // snapshot still carries the old generation.
          const t0 = Date.now();
          b = await driver.createGroupConsumer({ groupId, topics: [input], heartbeatIntervalMs: 300 });
          const rebalanceMs = Date.now() - t0;
          await pollUntil(b, () => b!.assignment().length > 0, 10_000);
          expect(a.groupMetadata()).toEqual(staleMeta);

          const offsets = a.assignment().map((tp) => ({ ...tp, offset: a.position(tp)! }));
          const error = await producer.sendOffsets(a, offsets).then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(FencedError);
          expect((error as FencedError).kind).toBe('group');
          await producer.abort();
          expect(await admin.committedOffsets(groupId, [input])).toEqual([]);
          expect(await readAll(output, 2, 'read_committed')).toEqual([]);

          // A's next poll delivers the rebalance; a transaction with the new generation commits.
          await a.poll({ maxWaitMs: 100 });
          const fresh = a.groupMetadata();
          expect(fresh.generationId).toBeGreaterThan(staleMeta.generationId);
          expect(revokedA).toHaveLength(1);
          expect(revokedA[0]).toHaveLength(1);
          expect(a.assignment()).toHaveLength(1);
          const mine = a.assignment()[0];
          await a.seekToCommitted();
          const again = await pollUntil(a, (all) => all.length >= 2);
          expect(again.map((r) => r.partition)).toEqual([mine.partition, mine.partition]);
          await producer.begin();
          await producer.send(again.map((r) => ({ topic: output, partition: r.partition, key: r.key, value: r.value })));
          await producer.sendOffsets(a, [{ ...mine, offset: a.position(mine)! }]);
          await producer.commit();
          expect(await admin.committedOffsets(groupId, [input])).toEqual([{ ...mine, offset: 2n }]);
          expect((await readAll(output, 2, 'read_committed')).map((r) => `${r.partition}:${str(r.key)}`)).toEqual(
            mine.partition === 0 ? ['0:k0', '0:k2'] : ['1:k1', '1:k3'],
          );
          console.info(`[kafka-driver] rebalance on join (heartbeat 300 ms): ${rebalanceMs} ms`);
        } finally {
          await b?.close();
          await a.close();
          await producer.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'rebalance callbacks: two members split 4 partitions, then the survivor gets all 4',
      async () => {
        const prefix = uniquePrefix('drv-reb');
        const topic = await createTopic(`${prefix}in`, 4);
        const groupId = group(`${prefix}group`);
        const all = [0, 1, 2, 3].map((p) => `${topic}:${p}`);
        const events: string[] = [];
        let callbackRunning = false;
        const callbacks = (name: string) => ({
          onAssigned: async (p: readonly TopicPartition[], g: GroupMetadata) => {
            callbackRunning = true;
            await new Promise((r) => setTimeout(r, 100)); // poll() must wait for this
            events.push(`${name} assigned ${tps(p).map((s) => s.slice(s.lastIndexOf(':') + 1)).join(',')} gen${g.generationId}`);
            callbackRunning = false;
          },
          onRevoked: async (p: readonly TopicPartition[], g: GroupMetadata) => {
            callbackRunning = true;
            await new Promise((r) => setTimeout(r, 100));
            events.push(`${name} revoked ${tps(p).map((s) => s.slice(s.lastIndexOf(':') + 1)).join(',')} gen${g.generationId}`);
            callbackRunning = false;
          },
        });
        const c1 = await driver.createGroupConsumer({ groupId, topics: [topic], heartbeatIntervalMs: 300, ...callbacks('c1') });
        let c2: GroupConsumer | null = null;
        try {
          await c1.poll({ maxWaitMs: 100 });
          expect(callbackRunning).toBe(false);
          expect(tps(c1.assignment())).toEqual(all);
          const gen1 = c1.groupMetadata().generationId;

          const joinStart = Date.now();
          c2 = await driver.createGroupConsumer({ groupId, topics: [topic], heartbeatIntervalMs: 300, ...callbacks('c2') });
          const joinMs = Date.now() - joinStart;
          // c2's join resolves when the group has synced; c1 learns it from its own (background) rejoin,
          // which its next poll delivers.
          await pollUntil(c2, () => c2!.assignment().length > 0, 10_000);
          const gen2 = c2.groupMetadata().generationId;
          await pollUntil(c1, () => c1.groupMetadata().generationId === gen2, 10_000);
          expect(callbackRunning).toBe(false);
          const a1 = tps(c1.assignment());
          const a2 = tps(c2.assignment());
          expect(a1).toHaveLength(2);
          expect(a2).toHaveLength(2);
          expect([...a1, ...a2].sort()).toEqual(all);
          expect(a1.filter((x) => a2.includes(x))).toEqual([]);
          expect(gen2).toBeGreaterThan(gen1);

          const leaveStart = Date.now();
          await c2.close();
          c2 = null;
          await pollUntil(c1, () => c1.assignment().length === 4, 15_000);
          const leaveMs = Date.now() - leaveStart;
          expect(tps(c1.assignment())).toEqual(all);
          const gen3 = c1.groupMetadata().generationId;
          expect(gen3).toBeGreaterThan(gen2);

          const p = (list: string[]) => list.map((s) => s.slice(s.lastIndexOf(':') + 1)).join(',');
          // Per member, in order. (Across members there is no order: c2 may see its partitions before c1's
          // poll revokes them, because the library rejoins in the background; generation fencing covers it.)
          expect(events.filter((e) => e.startsWith('c1'))).toEqual([
            `c1 assigned 0,1,2,3 gen${gen1}`,
            `c1 revoked ${p(a2)} gen${gen2}`,
            `c1 assigned ${p(a2)} gen${gen3}`,
          ]);
          expect(events.filter((e) => e.startsWith('c2'))).toEqual([`c2 assigned ${p(a2)} gen${gen2}`]);
          console.info(`[kafka-driver] rebalance on join: ${joinMs} ms, on leave: ${leaveMs} ms (heartbeat 300 ms)`);
        } finally {
          await c2?.close();
          await c1.close();
        }
      },
      TEST_TIMEOUT,
    );
  });
}
