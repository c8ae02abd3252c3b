/**
 * Headers of a consumed record reach its outputs and dead letters exactly as they were on the wire:
 * in order, with repeated names and names such as `__proto__` (issue 15, poison records). The
 * processors' view is a name -> value object (the last value of a repeated name, as Kafka Streams'
 * `lastHeader`), but what is written back is the list the record came with.
 */
import { describe, expect, it } from 'vitest';
import { toRawRecord } from '../../../runtime/consumed-record.js';
import { headerEntries, KafkaRecordCollector } from '../../../runtime/kafka-record-collector.js';
import type { RecordHeaders } from '../../../runtime/kafka/driver.js';

const b = (s: string) => Buffer.from(s);
const WIRE: RecordHeaders = [
  ['h', b('1')],
  ['h', b('2')],
  ['__proto__', b('p')],
  ['error', b('mine')],
  ['', b('empty')],
  ['h', b('3')],
];
const consumed = (headers: RecordHeaders) => toRawRecord({ topic: 'votes', partition: 4, offset: 9n, timestamp: 1, key: null, value: b('{oops'), headers });
const text = (h: RecordHeaders | undefined) => (h ?? []).map(([k, v]) => [k, v.toString()]);

describe('record headers', () => {
  it('give processors the last value of each name, __proto__ included, as a plain data property', () => {
    const raw = consumed(WIRE);
    expect(Object.keys(raw.headers)).toEqual(['h', '__proto__', 'error', '']);
    expect(raw.headers.h.toString()).toBe('3');
    expect(Object.hasOwn(raw.headers, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(raw.headers, '__proto__')?.value.toString()).toBe('p');
    expect(Object.getPrototypeOf(raw.headers)).toBe(Object.prototype);
  });

  it('are written to outputs exactly as consumed: order, repeated names, __proto__', () => {
    expect(text(headerEntries(consumed(WIRE).headers))).toEqual(text(WIRE));
    const collector = new KafkaRecordCollector(1_000_000);
    const produced = { partition: 0, count: 0, bytes: new Map<string, number>() };
    const raw = consumed(WIRE);
    collector.forTask(produced).send({ topic: 'out', key: null, value: b('x'), headers: raw.headers, timestamp: 1 });
    expect(text(collector.pending[0].headers)).toEqual(text(WIRE));
  });

  it('are kept in dead letters, followed by why and where from, on the partition the input came from', () => {
    const collector = new KafkaRecordCollector(1_000_000);
    collector.deadLetter(consumed(WIRE), 'votes-dlq', 'boom', { partition: 0, count: 0, bytes: new Map() });
    const [dead] = collector.pending;
    expect(text(dead.headers)).toEqual([...text(WIRE), ['error', 'boom'], ['source-topic', 'votes'], ['source-partition', '4'], ['source-offset', '9']]);
    expect(dead.sourcePartition).toBe(4);
  });

  it('leave out a dead letter value that would not fit the message limit, saying so', () => {
    const collector = new KafkaRecordCollector(20_000);
    const big = toRawRecord({ topic: 'votes', partition: 1, offset: 2n, timestamp: 1, key: b('k'), value: Buffer.alloc(19_900, 0x61), headers: [] });
    collector.deadLetter(big, 'votes-dlq', 'too large', { partition: 0, count: 0, bytes: new Map() });
    const [dead] = collector.pending;
    expect(dead.value).toBe(null);
    expect(text(dead.headers)).toEqual([['error', 'too large'], ['source-topic', 'votes'], ['source-partition', '1'], ['source-offset', '2'], ['value-omitted', '19900']]);
  });
});
