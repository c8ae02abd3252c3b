import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../runtime/clock.js';
import type { RawRecord } from '../../../runtime/raw-record.js';
import type { OutgoingRecord } from '../../../runtime/record-collector.js';
import { StreamTask } from '../../../runtime/stream-task.js';
import type { Sink, SinkRecord } from '../../../sinks/sink.js';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import type { KeyValueStore } from '../../../statestores/key-value-store.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();

function topology() {
  const builder = new StreamsBuilder();
  builder.addStateStore<string>({ name: 'voters' });
  const { accepted, duplicates } = builder
    .stream('votes', { key: str, value: str })
    .dedupe({ key: (k) => k, store: 'voters', storeValue: (_k, v) => v, name: 'dedupe' });
  accepted.to('votes-accepted');
  accepted.to({ name: 'counter', create: () => ({}) as Sink<string, string> }, { name: 'count-sink' });
  duplicates.to('votes-rejected');
  return builder.build();
}

function raw(offset: number, key: string, value: string): RawRecord {
  return { topic: 'votes', partition: 3, offset, timestamp: 100 + offset, key: Buffer.from(key), value: Buffer.from(value), headers: {} };
}

async function openTask(sinkBatchSize: number) {
  const sent: OutgoingRecord[] = [];
  const calls: string[] = [];
  const sink: Sink<unknown, unknown> = {
    open: async () => undefined,
    write: async (batch: readonly SinkRecord<unknown, unknown>[]) => void calls.push(`write ${batch.map((r) => `${String(r.key)}@${r.offset}`).join(',')}`),
    flush: async () => void calls.push('flush'),
    close: async () => undefined,
  };
  const voters = new InMemoryKeyValueStore<unknown>('voters');
  await voters.open();
  const task = new StreamTask({
    applicationId: 'votestream',
    subTopology: topology().subTopologies[0],
    partition: 3,
    stores: new Map<string, KeyValueStore<unknown>>([['voters', voters]]),
    collector: { send: (record) => void sent.push(record) },
    sinks: new Map([['count-sink', sink]]),
    clock: new ManualClock(0),
    sinkBatchSize,
  });
  return { task, sent, calls, voters };
}

describe('StreamTask, driven as the runtime drives it', () => {
  it('processes raw records into collector sends, store writes and sink batches', async () => {
    const { task, sent, calls, voters } = await openTask(2);
    expect(task.id).toBe('0_3');
    expect(task.sourceTopics).toEqual(['votes']);
    await task.init();
    await task.process(raw(0, 'u1', 'v1'));
    await task.process(raw(1, 'u1', 'v2'));
    await task.process(raw(2, 'u2', 'v3'));
    expect(calls).toEqual(['write u1@0,u2@2']);
    await task.process(raw(3, 'u3', 'v4'));
    await task.commit();
    expect(calls).toEqual(['write u1@0,u2@2', 'write u3@3', 'flush']);
    expect(sent.map((r) => [r.topic, r.key?.toString(), r.value?.toString(), r.partition, r.timestamp])).toEqual([
      ['votes-accepted', 'u1', 'v1', undefined, 100],
      ['votes-rejected', 'u1', 'v2', undefined, 101],
      ['votes-accepted', 'u2', 'v3', undefined, 102],
      ['votes-accepted', 'u3', 'v4', undefined, 103],
    ]);
    expect(await voters.getMany(['u1', 'u2', 'u3'])).toEqual(['v1', 'v3', 'v4']);
    expect(task.streamTimeMs).toBe(103);
    await task.close();
  });

  it('checks its wiring and its lifecycle', async () => {
    const sub = topology().subTopologies[0];
    const collector = { send: () => undefined };
    expect(() => new StreamTask({ applicationId: 'a', subTopology: sub, partition: 0, stores: new Map(), collector })).toThrow(
      'Task 0_0 needs store "voters", which was not given',
    );
    const stores = new Map<string, KeyValueStore<unknown>>([['voters', new InMemoryKeyValueStore('voters')]]);
    expect(() => new StreamTask({ applicationId: 'a', subTopology: sub, partition: 0, stores, collector })).toThrow(
      'Task 0_0 needs an opened sink for node "count-sink" (counter)',
    );
    const { task } = await openTask(10);
    await expect(task.process(raw(0, 'u', 'v'))).rejects.toThrow('Task 0_3 cannot process while created');
    await task.init();
    await expect(task.process({ ...raw(0, 'u', 'v'), topic: 'other' })).rejects.toThrow('Task 0_3 does not read topic "other"');
    await task.close();
    await task.close();
    await expect(task.punctuate('wall-clock')).rejects.toThrow('Task 0_3 cannot punctuate while closed');
  });
});
