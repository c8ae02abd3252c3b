import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { SerdeError, type Serde } from '../../../topology/serdes/serde.js';

describe('Serdes', () => {
  it('string: UTF-8 both ways, null data rejected', () => {
    const serde = Serdes.string();
    expect(serde.serialize('t', 'héllo')).toEqual(Buffer.from([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]));
    expect(serde.deserialize('t', Buffer.from('héllo'))).toBe('héllo');
    expect(() => serde.deserialize('t', null)).toThrow(new SerdeError('string serde cannot deserialize null data from topic "t"'));
  });

  it('bytes: passes the buffer through', () => {
    const bytes = Buffer.from([1, 2, 3]);
    expect(Serdes.bytes().serialize('t', bytes)).toBe(bytes);
    expect(Serdes.bytes().deserialize('t', bytes)).toBe(bytes);
  });

  it('json without a validator round-trips', () => {
    const serde = Serdes.json<{ a: number; b: string[] }>();
    const bytes = serde.serialize('t', { a: 1, b: ['x'] });
    expect(bytes?.toString()).toBe('{"a":1,"b":["x"]}');
    expect(serde.deserialize('t', bytes)).toEqual({ a: 1, b: ['x'] });
    expect(() => serde.deserialize('t', Buffer.from('{nope'))).toThrow(SerdeError);
    expect(() => serde.deserialize('t', Buffer.from('{nope'))).toThrow(/^invalid JSON on topic "t": /);
  });

  it('json with a zod schema validates what it decodes', () => {
    const serde = Serdes.json(z.object({ id: z.string(), n: z.number().int() }));
    expect(serde.deserialize('t', Buffer.from('{"id":"x","n":2,"extra":true}'))).toEqual({ id: 'x', n: 2 });
    expect(() => serde.deserialize('t', Buffer.from('{"id":"x","n":"2"}'))).toThrow(/^JSON on topic "t" failed validation: /);
  });

  it('json accepts any { parse } validator', () => {
    const positive = { parse: (x: unknown): number => (typeof x === 'number' && x > 0 ? x : Number.NaN) };
    const serde = Serdes.json(positive);
    expect(serde.deserialize('t', Buffer.from('5'))).toBe(5);
    expect(serde.deserialize('t', Buffer.from('-5'))).toBeNaN();
  });

  it('int32: 4 bytes big-endian, like Kafka IntegerSerializer', () => {
    const serde = Serdes.int32();
    expect(serde.serialize('t', 1)).toEqual(Buffer.from([0, 0, 0, 1]));
    expect(serde.serialize('t', -2)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    expect(serde.deserialize('t', Buffer.from([0x7f, 0xff, 0xff, 0xff]))).toBe(2147483647);
    expect(() => serde.serialize('t', 2 ** 31)).toThrow(new SerdeError('int32 serde cannot represent 2147483648'));
    expect(() => serde.serialize('t', 1.5)).toThrow(SerdeError);
    expect(() => serde.deserialize('t', Buffer.from([1, 2]))).toThrow(
      new SerdeError('int32 serde expects 4 bytes on topic "t", got 2'),
    );
  });

  it('int64: 8 bytes big-endian bigint, like Kafka LongSerializer', () => {
    const serde = Serdes.int64();
    expect(serde.serialize('t', 258n)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
    expect(serde.deserialize('t', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(-1n);
    expect(serde.deserialize('t', serde.serialize('t', 2n ** 63n - 1n))).toBe(2n ** 63n - 1n);
    expect(() => serde.serialize('t', 2n ** 63n)).toThrow(SerdeError);
  });

  it('double: 8 bytes IEEE 754 big-endian, like Kafka DoubleSerializer', () => {
    const serde = Serdes.double();
    expect(serde.serialize('t', 1.5)).toEqual(Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]));
    expect(serde.deserialize('t', serde.serialize('t', -0.1))).toBe(-0.1);
  });

  it('nullable: maps Kafka null to null and delegates the rest', () => {
    const serde = Serdes.nullable(Serdes.string());
    expect(serde.serialize('t', null)).toBeNull();
    expect(serde.deserialize('t', null)).toBeNull();
    expect(serde.deserialize('t', Buffer.from('x'))).toBe('x');
  });

  it('user-defined serdes are plain objects implementing Serde<T>', () => {
    const upper: Serde<string> = {
      serialize: (_t, v) => Buffer.from(v.toUpperCase()),
      deserialize: (_t, d) => (d ?? Buffer.alloc(0)).toString().toLowerCase(),
    };
    expect(upper.deserialize('t', upper.serialize('t', 'MiXed'))).toBe('mixed');
  });
});
