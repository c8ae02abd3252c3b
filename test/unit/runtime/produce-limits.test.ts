import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '../../../runtime/kafka/driver.js';
import { chunkByTopicBytes, maxRecordBytes, recordBytes } from '../../../runtime/produce-limits.js';

const record = (topic: string, bytes: number, i: number): ProducerRecord => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes, 1) });

describe('chunkByTopicBytes', () => {
  it('keeps every chunk of one topic under the message limit, in order', () => {
    const limit = 100_000;
    const records = Array.from({ length: 50 }, (_, i) => record('out', 9_000, i));
    const chunks = chunkByTopicBytes(records, limit);
    expect(chunks.flat()).toEqual(records);
    for (const chunk of chunks) expect(chunk.reduce((sum, r) => sum + recordBytes(r), 0)).toBeLessThanOrEqual(maxRecordBytes(limit));
    // 9 032-byte records, 99 872 bytes of budget: 11 per chunk, so 50 records need 5 chunks.
    expect(chunks.map((c) => c.length)).toEqual([11, 11, 11, 11, 6]);
  });

  it('counts topics apart: records of another topic do not start a new chunk', () => {
    const limit = 100_000;
    const records = [...Array.from({ length: 10 }, (_, i) => record('a', 9_000, i)), ...Array.from({ length: 10 }, (_, i) => record('b', 9_000, i))];
    expect(chunkByTopicBytes(records, limit)).toHaveLength(1);
  });

  it('keeps counting a topic across runs of other topics, and starts every topic afresh in a new chunk', () => {
    const limit = 100_000;
    const [a1, b1, a2] = [record('a', 60_000, 1), record('b', 10_000, 2), record('a', 60_000, 3)];
    expect(chunkByTopicBytes([a1, b1, a2], limit)).toEqual([[a1, b1], [a2]]);
    const [c1, d1, c2, c3, d2] = [record('c', 40_000, 1), record('d', 60_000, 2), record('c', 40_000, 3), record('c', 40_000, 4), record('d', 60_000, 5)];
    // The third c starts a chunk; the second d fits in it only because d starts at 0 there too.
    expect(chunkByTopicBytes([c1, d1, c2, c3, d2], limit)).toEqual([[c1, d1, c2], [c3, d2]]);
  });

  it('counts header names and values', () => {
    const plain = record('out', 10, 0);
    const withHeaders = { ...plain, headers: [['name', Buffer.alloc(5)], ['näme', Buffer.alloc(7)]] as const };
    expect(recordBytes(withHeaders) - recordBytes(plain)).toBe(10 + 4 + 5 + 10 + 5 + 7);
  });

  it('sends nothing for no records, and a lone record at the limit alone', () => {
    expect(chunkByTopicBytes([], 100_000)).toEqual([]);
    const big = record('out', maxRecordBytes(100_000) - 40, 0);
    expect(chunkByTopicBytes([big, record('out', 10, 1)], 100_000).map((c) => c.length)).toEqual([1, 1]);
  });
});
