import { describe, expect, it } from 'vitest';
import type { IHeaders } from 'kafkajs';
import { fromKafkajsHeaders, toKafkajsHeaders } from '../../../../runtime/kafka/kafkajs/records.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('kafkajs header conversion', () => {
  it('writes a header named __proto__ as an own header, beside the others, duplicates grouped in order', () => {
    const out = toKafkajsHeaders([['a', b('1')], ['__proto__', b('p')], ['b', b('2')], ['a', b('3')]])!;
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.keys(out)).toEqual(['a', '__proto__', 'b']);
    expect(out['__proto__']).toEqual([b('p')]);
    expect(out.a).toEqual([b('1'), b('3')]);
  });

  it('reads what kafkajs decodes for __proto__ ([Object.prototype, value]) as the header, skipping anything not a Buffer or a string', () => {
    // What kafkajs 2.2.4's decoder builds for headers (a, __proto__, a): a plain object, so `obj['__proto__']` starts as Object.prototype.
    const decoded: Record<string, unknown> = { a: [b('1'), b('3')], s: 'text', e: undefined };
    Object.defineProperty(decoded, '__proto__', { value: [Object.prototype, b('p')], enumerable: true });
    expect(fromKafkajsHeaders(decoded as IHeaders)).toEqual([['a', b('1')], ['a', b('3')], ['s', b('text')], ['e', Buffer.alloc(0)], ['__proto__', b('p')]]);
    const lost: Record<string, unknown> = { a: b('1') };
    Object.defineProperty(lost, '__proto__', { value: Object.prototype, enumerable: true });
    expect(fromKafkajsHeaders(lost as IHeaders)).toEqual([['a', b('1')]]);
  });
});
