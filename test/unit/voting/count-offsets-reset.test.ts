import { describe, expect, it } from 'vitest';
import { assertGroupIdle, CountPathRunningError, planCountOffsetsReset, votingGroupId } from '../../../voting/count-offsets-reset.js';

const m = (entries: [number, bigint][]) => new Map(entries);

describe('planCountOffsetsReset', () => {
  it('moves each partition to min(count, persist), never forward', () => {
    const steps = planCountOffsetsReset({
      partitions: 3,
      count: m([[0, 100n], [1, 50n], [2, 70n]]),
      persist: m([[0, 40n], [1, 80n], [2, 70n]]),
      logStart: m([[0, 0n], [1, 0n], [2, 0n]]),
    });
    expect(steps).toEqual([
      { partition: 0, from: 100n, persist: 40n, to: 40n, moves: true },
      { partition: 1, from: 50n, persist: 80n, to: 50n, moves: false },
      { partition: 2, from: 70n, persist: 70n, to: 70n, moves: false },
    ]);
  });

  it('rewinds to the log start where the persist group never committed', () => {
    const steps = planCountOffsetsReset({ partitions: 1, count: m([[0, 30n]]), persist: m([]), logStart: m([[0, 12n]]) });
    expect(steps).toEqual([{ partition: 0, from: 30n, persist: null, to: 12n, moves: true }]);
  });

  it('leaves a partition alone where the count group never committed (it starts from the log start anyway)', () => {
    const steps = planCountOffsetsReset({ partitions: 2, count: m([[1, 5n]]), persist: m([[0, 9n], [1, 2n]]), logStart: m([]) });
    expect(steps).toEqual([
      { partition: 0, from: null, persist: 9n, to: null, moves: false },
      { partition: 1, from: 5n, persist: 2n, to: 2n, moves: true },
    ]);
  });
});

describe('the count group check', () => {
  it('names the groups as the runtime does (application id + first source node)', () => {
    expect(votingGroupId('p-', 'count')).toBe('p-votestream-count-source');
    expect(votingGroupId('', 'persist')).toBe('votestream-persist-source');
    expect(votingGroupId('', 'dedup')).toBe('votestream-votes-source');
  });

  it('refuses a group with members and accepts an empty one', () => {
    expect(() => assertGroupIdle({ groupId: 'g', state: 'EMPTY', members: [] })).not.toThrow();
    expect(() => assertGroupIdle({ groupId: 'g', state: 'STABLE', members: ['c@/127.0.0.1'] })).toThrow(CountPathRunningError);
    expect(() => assertGroupIdle({ groupId: 'g', state: 'STABLE', members: ['c@/127.0.0.1'] })).toThrow(/consumer group g is STABLE with 1 member\(s\)/);
  });
});
