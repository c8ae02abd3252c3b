import { describe, expect, it } from 'vitest';
import { appliedThroughOf, parseProgressHash, progressScriptArgs } from '../../../sinks/redis-count-progress.js';

const progress = (hash: Record<string, string>) => parseProgressHash(hash);

describe('the count progress of a partition on a Redis Cluster', () => {
  it('no progress hash: nothing can be trusted, replay the partition from its beginning', () => {
    expect(appliedThroughOf(progress({}), new Map([['e1', 500]]))).toEqual({ appliedThrough: null, lost: [] });
  });

  it('every listed group holds at least its entry: applied through `through`, whatever lower watermarks quiet groups have', () => {
    const p = progress({ through: '900', 'g:e1': '900', 'g:e2': '400' });
    expect(p).toEqual({ through: 900, groups: new Map([['e1', 900], ['e2', 400]]) });
    // e2 had no record after 400 (or its entry would be higher); a group beyond `through` is fine too.
    expect(appliedThroughOf(p, new Map([['e1', 950], ['e2', 400]]))).toEqual({ appliedThrough: 900, lost: [] });
  });

  it('a group rolled back below its entry holds its records only through its watermark; one gone holds nothing', () => {
    const p = progress({ through: '900', 'g:e1': '900', 'g:e2': '700', 'g:e3': '800' });
    expect(appliedThroughOf(p, new Map<string, number | null>([['e1', 900], ['e2', 650], ['e3', 800]]))).toEqual({
      appliedThrough: 650,
      lost: [{ group: 'e2', expected: 700, stored: 650 }],
    });
    expect(appliedThroughOf(p, new Map<string, number | null>([['e1', 900], ['e2', 650], ['e3', null]]))).toEqual({
      appliedThrough: null,
      lost: [
        { group: 'e2', expected: 700, stored: 650 },
        { group: 'e3', expected: 800, stored: null },
      ],
    });
  });

  it('script arguments: the through the writer saw, the new one, then each group entry', () => {
    expect(progressScriptArgs(null, 120, new Map([['e1', 120], ['e2', 120]]))).toEqual(['', '120', 'g:e1', '120', 'g:e2', '120']);
    expect(progressScriptArgs(99, 120, new Map())).toEqual(['99', '120']);
  });
});
