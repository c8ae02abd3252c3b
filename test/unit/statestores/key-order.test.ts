import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../../statestores/key-order.js';

describe('compareKeys', () => {
  it('orders exactly as LevelDB orders the UTF-8 bytes', () => {
    // Deterministic pseudo-random keys over ASCII, Latin-1, the U+E000..U+FFFF block and
    // supplementary code points, where UTF-16 and UTF-8 order disagree.
    const alphabet = ['a', 'b', 'é', '中', '\uE000', '\uFFFD', '😀', '𝄞'];
    let seed = 7;
    // The high bits: a power-of-two LCG has short cycles in its low bits.
    const next = () => Math.floor((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 65536);
    const keys = Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + (next() % 4) }, () => alphabet[next() % alphabet.length]).join(''),
    );
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    // And JavaScript's default order really is different on these keys.
    expect([...keys].sort()).not.toEqual(byBytes);
  });

  it('is zero only for equal keys and puts prefixes first', () => {
    expect(compareKeys('e1:u1', 'e1:u1')).toBe(0);
    expect(compareKeys('e1', 'e1:u1')).toBeLessThan(0);
    expect(compareKeys('\uFFFF', '😀')).toBeLessThan(0);
    expect(compareKeys('😀', '\uE000')).toBeGreaterThan(0);
  });
});
