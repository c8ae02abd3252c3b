import { describe, expect, it } from 'vitest';
import { MAX_KEPT, myVotes, receiptPath, rememberVote, type VoteStorage } from '../../../../voting/page/my-votes.js';

/** localStorage's contract, in memory; `full` makes every write throw as a full quota does. */
function memoryStorage(full = false): VoteStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => {
      if (full) throw new Error('QuotaExceededError');
      items.set(k, v);
    },
  };
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('the live page remembers the votes it cast, for their receipts', () => {
  it('keeps each election apart, in the order cast, once per voteId', () => {
    const s = memoryStorage();
    expect(rememberVote(s, 'e1', { voteId: id(1), candidate: 'Ada', at: 1 })).toBe(true);
    rememberVote(s, 'e2', { voteId: id(2), candidate: 'Grace', at: 2 });
    rememberVote(s, 'e1', { voteId: id(3), candidate: 'Linus', at: 3 });
    rememberVote(s, 'e1', { voteId: id(1), candidate: 'Ada', at: 1 });
    expect(myVotes(s, 'e1').map((v) => v.voteId)).toEqual([id(3), id(1)]);
    expect(myVotes(s, 'e2')).toEqual([{ voteId: id(2), candidate: 'Grace', at: 2 }]);
    expect(myVotes(s, 'e3')).toEqual([]);
  });

  it(`keeps the last ${MAX_KEPT}`, () => {
    const s = memoryStorage();
    for (let n = 0; n < MAX_KEPT + 5; n++) rememberVote(s, 'e', { voteId: id(n), candidate: 'Ada', at: n });
    const kept = myVotes(s, 'e');
    expect(kept).toHaveLength(MAX_KEPT);
    expect(kept[0].voteId).toBe(id(5));
  });

  it('ignores what is not a vote of ours: junk in storage, a voteId that is not a UUID, a storage that refuses', () => {
    const s = memoryStorage();
    s.items.set('votestream:my-votes:e', '{not json');
    expect(myVotes(s, 'e')).toEqual([]);
    s.items.set('votestream:my-votes:e', JSON.stringify([{ voteId: '../../keys', candidate: 'x', at: 1 }, { voteId: id(1), candidate: 'Ada', at: 1 }, null]));
    expect(myVotes(s, 'e').map((v) => v.voteId)).toEqual([id(1)]);
    expect(rememberVote(s, 'e', { voteId: 'not-a-uuid', candidate: 'Ada', at: 1 })).toBe(false);
    expect(rememberVote(memoryStorage(true), 'e', { voteId: id(2), candidate: 'Ada', at: 1 })).toBe(false);
  });

  it('links the feed’s receipt route, escaped', () => {
    expect(receiptPath('e 1', id(1))).toBe(`/v1/elections/e%201/receipts/${id(1)}`);
  });
});
