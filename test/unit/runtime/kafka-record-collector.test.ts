import { describe, expect, it } from 'vitest';
import { headerEntries, KafkaRecordCollector, type ProducedSinceCommit } from '../../../runtime/kafka-record-collector.js';
import { recordBytes, RecordTooLargeError } from '../../../runtime/produce-limits.js';

const buf = (s: string): Buffer => Buffer.from(s);
const produced = (): ProducedSinceCommit => ({ partition: 0, count: 0, bytes: new Map() });

describe('KafkaRecordCollector', () => {
  it('buffers outputs as producer records: partition only when given, headers as entries', () => {
    const collector = new KafkaRecordCollector(1_000_000);
    const counts = produced();
    const task = collector.forTask(counts);
    task.send({ topic: 'a', key: buf('k1'), value: buf('v1'), headers: {}, timestamp: 10 });
    task.send({ topic: 'a', key: null, value: null, headers: { h: buf('x'), g: buf('y') }, partition: 3, timestamp: 11 });
    task.send({ topic: 'b', key: buf('k3'), value: buf('v3'), headers: Object.freeze({}), timestamp: 12 });
    const [first, second, third] = collector.pending;
    expect(first).toEqual({ topic: 'a', key: buf('k1'), value: buf('v1'), headers: [], timestamp: 10 });
    expect(first.partition).toBeUndefined();
    expect(second).toEqual({ topic: 'a', partition: 3, key: null, value: null, headers: [['h', buf('x')], ['g', buf('y')]], timestamp: 11 });
    expect(third.headers).toEqual([]);
    expect(counts.count).toBe(3);
    expect(counts.bytes).toEqual(
      new Map([
        ['a', recordBytes(first) + recordBytes(second)],
        ['b', recordBytes(third)],
      ]),
    );
    collector.clear();
    expect(collector.size).toBe(0);
  });

  it('refuses a record larger than the message limit before buffering it', () => {
    const collector = new KafkaRecordCollector(1_000);
    const counts = produced();
    const task = collector.forTask(counts);
    expect(() => task.send({ topic: 'a', key: null, value: Buffer.alloc(2_000), headers: {}, timestamp: 0 })).toThrow(RecordTooLargeError);
    expect(collector.size).toBe(0);
    expect(counts.count).toBe(0);
  });
});

describe('headerEntries', () => {
  it('shares one frozen empty list among records without headers', () => {
    const none = headerEntries({});
    expect(none).toEqual([]);
    expect(Object.isFrozen(none)).toBe(true);
    expect(headerEntries(Object.freeze({}))).toBe(none);
  });

  it('lists own headers only, in insertion order', () => {
    const inherited: Record<string, Buffer> = Object.create({ ghost: buf('g') });
    expect(headerEntries(inherited)).toEqual([]);
    inherited.b = buf('2');
    inherited.a = buf('1');
    expect(headerEntries(inherited)).toEqual([
      ['b', buf('2')],
      ['a', buf('1')],
    ]);
  });
});
