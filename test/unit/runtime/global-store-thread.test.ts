import { afterEach, describe, expect, it } from 'vitest';
import { InfrastructureError } from '../../../runtime/errors.js';
import { GlobalStoreThread } from '../../../runtime/global-store-thread.js';
import type { ConsumedRecord, KafkaAdmin, KafkaDriver, Reader, TopicPartitionOffset } from '../../../runtime/kafka/driver.js';
import { createLogger } from '../../../runtime/logger.js';
import { hasCompleteness } from '../../../topology/global-store-completeness.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const TOPIC = 'ref';

/**
 * A one-partition topic the test appends to. The reader hands over what was appended only once the
 * test releases it, so "appended" (visible in end offsets) and "applied" can be told apart.
 */
class FakeTopic {
  readonly log: ConsumedRecord[] = [];
  released = 0;
  position = 0n;
  endOffsetCalls = 0;
  polls = 0;
  #wake: (() => void) | undefined;

  append(key: string, value: string): void {
    this.log.push({ topic: TOPIC, partition: 0, offset: BigInt(this.log.length), timestamp: Date.now(), key: Buffer.from(key), value: Buffer.from(value), headers: [] });
  }
  release(): void {
    this.released = this.log.length;
    this.#wake?.();
  }
  #take(): ConsumedRecord[] {
    const batch = this.log.slice(Number(this.position), this.released);
    this.position = BigInt(this.released);
    return batch;
  }
  driver(): KafkaDriver {
    const reader: Reader = {
      poll: async () => {
        this.polls++;
        if (this.released === Number(this.position)) await new Promise<void>((resolve) => ((this.#wake = resolve), setTimeout(resolve, 20)));
        return this.#take();
      },
      readToEnd: async (onBatch) => {
        this.released = this.log.length;
        const batch = this.#take();
        await onBatch(batch);
        return { records: batch.length, end: [{ topic: TOPIC, partition: 0, offset: this.position }] };
      },
      endOffsets: async () => [{ topic: TOPIC, partition: 0, offset: BigInt(this.log.length) }],
      position: () => this.position,
      seek: () => undefined,
      close: async () => undefined,
    };
    const unused = (): never => {
      throw new Error('not used by the global store thread');
    };
    const admin: KafkaAdmin = {
      endOffsets: async (): Promise<TopicPartitionOffset[]> => {
        this.endOffsetCalls++;
        return [{ topic: TOPIC, partition: 0, offset: BigInt(this.log.length) }];
      },
      close: async () => undefined,
      ensureTopics: unused,
      deleteTopics: unused,
      partitionCounts: unused,
      beginningOffsets: unused,
      committedOffsets: unused,
      deleteGroups: unused,
    };
    return {
      fencesOffsetsByGeneration: true,
      createAdmin: () => admin,
      createReader: async () => reader,
      createGroupConsumer: unused,
      createTransactionalProducer: unused,
      createProducer: unused,
    };
  }
}

function specs() {
  const builder = new StreamsBuilder();
  builder.globalTable(TOPIC, { key: Serdes.string(), value: Serdes.string(), storeName: 'ref' });
  return builder.build().globalStores;
}

describe('GlobalStoreThread completeness watermark', () => {
  let thread: GlobalStoreThread | undefined;
  afterEach(async () => {
    await thread?.stop();
    thread = undefined;
  });

  it('is complete up to the start of the first load, and a wait for an earlier instant returns at once', async () => {
    const topic = new FakeTopic();
    topic.append('a', '1');
    const before = Date.now();
    thread = new GlobalStoreThread(specs(), topic.driver(), createLogger({ level: 'silent' }));
    await thread.start(new Map([[TOPIC, 1]]));
    const store = thread.stores.get('ref')!;
    expect(hasCompleteness(store)).toBe(true);
    expect(thread.completeUpToMs()).toBeGreaterThanOrEqual(before);
    await thread.waitUntilCompleteUpTo(before);
    expect(await store.get('a')).toBe('1');
  });

  it('does not report an instant complete while a record appended before it is not applied', async () => {
    const topic = new FakeTopic();
    thread = new GlobalStoreThread(specs(), topic.driver(), createLogger({ level: 'silent' }));
    await thread.start(new Map([[TOPIC, 1]]));
    topic.append('b', '2');
    const appendedBy = Date.now() + 1;
    let resolved = false;
    const waiting = thread.waitUntilCompleteUpTo(appendedBy).then(() => (resolved = true));
    // An observation sees the record in the end offsets, and the reader keeps polling without
    // handing it over: the observation cannot be reached, so the instant is not complete.
    const calls = topic.endOffsetCalls;
    while (topic.endOffsetCalls === calls) await new Promise((r) => setImmediate(r));
    const polls = topic.polls;
    while (topic.polls < polls + 2) await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    expect(thread.completeUpToMs()).toBeLessThan(appendedBy);
    topic.release();
    await waiting;
    expect(await thread.stores.get('ref')!.get('b')).toBe('2');
    expect(thread.completeUpToMs()).toBeGreaterThanOrEqual(appendedBy);
  });

  it('waits for the clock to reach an instant ahead of it, then for an observation made after it', async () => {
    const topic = new FakeTopic();
    thread = new GlobalStoreThread(specs(), topic.driver(), createLogger({ level: 'silent' }));
    await thread.start(new Map([[TOPIC, 1]]));
    const ahead = Date.now() + 60;
    await thread.waitUntilCompleteUpTo(ahead);
    expect(Date.now()).toBeGreaterThanOrEqual(ahead);
    expect(thread.completeUpToMs()).toBeGreaterThanOrEqual(ahead);
  });

  it('fails waits as an infrastructure error once interrupted (shutdown), so the record is replayed, not dead-lettered', async () => {
    const topic = new FakeTopic();
    thread = new GlobalStoreThread(specs(), topic.driver(), createLogger({ level: 'silent' }));
    await thread.start(new Map([[TOPIC, 1]]));
    const waiting = thread.waitUntilCompleteUpTo(Date.now() + 60_000);
    thread.interruptWaits();
    await expect(waiting).rejects.toBeInstanceOf(InfrastructureError);
    await expect(thread.waitUntilCompleteUpTo(Date.now() + 60_000)).rejects.toBeInstanceOf(InfrastructureError);
  });
});
