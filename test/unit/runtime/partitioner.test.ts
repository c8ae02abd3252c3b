import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../../../runtime/partitioner.js';

describe('murmur2 (Java Utils.murmur2)', () => {
  // The vectors of Kafka's own UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j to %i', (key, hash) => {
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('covers every tail length, including the empty key', () => {
    expect(['', 'a', 'c1', 'u42', 'e1:u1'].map((k) => murmur2(Buffer.from(k)))).toEqual([
      275646681, -1563381124, 2069367011, -293379993, -520252347,
    ]);
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2) % n, as the Java producer computes it', () => {
    // "a": -1563381124 & 0x7fffffff = 584102524; 584102524 % 12 = 4.
    expect(toPositive(-1563381124)).toBe(584102524);
    expect(['a', 'u42', 'voter-1', 'c1', 'c2', 'c3'].map((k) => partitionForKey(Buffer.from(k), 12))).toEqual([
      4, 11, 2, 11, 1, 5,
    ]);
    expect(['u1', 'u2', 'u3', 'u4'].map((k) => partitionForKey(Buffer.from(k), 2))).toEqual([0, 0, 0, 0]);
    expect(['k1', 'k2', 'k3'].map((k) => partitionForKey(Buffer.from(k), 2))).toEqual([1, 1, 0]);
  });
});
