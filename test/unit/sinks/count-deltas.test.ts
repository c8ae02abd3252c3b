import { describe, expect, it } from 'vitest';
import { aggregateDeltas, filterAboveFence, segmentsOf, UnfenceableRecordError } from '../../../sinks/count-deltas.js';
import { countScriptArgs, parseCountScriptReply } from '../../../sinks/redis-count-script.js';
import type { SinkRecord } from '../../../sinks/sink.js';
import type { AcceptedVote } from '../../../voting/vote.js';

const V = '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80';
function rec(partition: number, offset: number, electionId: string, candidateId: string, region?: string): SinkRecord<string, AcceptedVote> {
  const value: AcceptedVote = { voteId: V, electionId, voterId: `u${offset}`, candidateId, ...(region ? { region } : {}), ts: 1, source: { partition, offset } };
  return { topic: 'votes-accepted', partition, offset, timestamp: 0, key: value.voterId, value, headers: {} };
}

const batch = [
  rec(3, 10, 'e1', 'c1', 'SP'),
  rec(3, 11, 'e2', 'c9'),
  rec(3, 12, 'e1', 'c2', 'SP'),
  rec(4, 7, 'e1', 'c1', 'RJ'),
  rec(3, 13, 'e1', 'c1'),
];

describe('aggregateDeltas', () => {
  it('splits by election and aggregates one segment per partition with its offset range', () => {
    const deltas = aggregateDeltas(batch);
    expect(deltas.map((d) => d.electionId)).toEqual(['e1', 'e2']);
    expect(deltas[0].records).toHaveLength(4);
    expect(deltas[0].segments).toEqual([
      { partition: 3, minOffset: 10, maxOffset: 13, votes: 3, counts: new Map([['c1', 2], ['c2', 1]]), regions: new Map([['SP:c1', 1], ['SP:c2', 1]]) },
      { partition: 4, minOffset: 7, maxOffset: 7, votes: 1, counts: new Map([['c1', 1]]), regions: new Map([['RJ:c1', 1]]) },
    ]);
    expect(deltas[1].segments).toEqual([{ partition: 3, minOffset: 11, maxOffset: 11, votes: 1, counts: new Map([['c9', 1]]), regions: new Map() }]);
  });

  it('refuses records without an input offset (punctuator output cannot be fenced)', () => {
    expect(() => aggregateDeltas([{ ...rec(3, 1, 'e1', 'c1'), offset: -1 }])).toThrow(UnfenceableRecordError);
  });

  it('an empty batch has no deltas', () => {
    expect(aggregateDeltas([])).toEqual([]);
    expect(segmentsOf([])).toEqual([]);
  });
});

describe('filterAboveFence', () => {
  it('keeps exactly the records above their partition fence and re-aggregates', () => {
    const [e1] = aggregateDeltas(batch);
    const { deltas, dropped } = filterAboveFence(e1, new Map([[3, 12]]));
    expect(dropped).toBe(2);
    expect(deltas.records.map((r) => [r.partition, r.offset])).toEqual([
      [4, 7],
      [3, 13],
    ]);
    expect(deltas.segments.map((s) => [s.partition, s.minOffset, s.maxOffset, s.votes])).toEqual([
      [3, 13, 13, 1],
      [4, 7, 7, 1],
    ]);
  });

  it('drops everything at or below the fence, for any cut', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(0, 100 + i, 'e', `c${i % 3}`));
    for (let fence = 98; fence <= 110; fence++) {
      const { deltas, dropped } = filterAboveFence(aggregateDeltas(records)[0], new Map([[0, fence]]));
      expect(deltas.records.map((r) => r.offset)).toEqual(records.map((r) => r.offset).filter((o) => o > fence));
      expect(dropped).toBe(records.length - deltas.records.length);
    }
  });
});

describe('count script encoding', () => {
  it('lays ARGV out as documented', () => {
    const [e1] = aggregateDeltas(batch);
    const watermarks = [
      { partition: 3, known: 9, raiseTo: 13 },
      { partition: 4, known: null, raiseTo: 7 },
    ];
    expect(countScriptArgs(watermarks, [{ channel: 'vs:{e1}:updates', electionId: 'e1', segments: e1.segments }])).toEqual([
      '2', '3', '9', '13', '4', '', '7',
      '1', 'vs:{e1}:updates', 'e1', '2',
      '3', '10', '13', '3', '2', '2', 'c1', '2', 'c2', '1', 'SP:c1', '1', 'SP:c2', '1',
      '4', '7', '7', '1', '1', '1', 'c1', '1', 'RJ:c1', '1',
    ]);
  });

  it('parses every reply shape', () => {
    expect(parseCountScriptReply([0, 5, 2])).toEqual({ kind: 'done', applied: 5, skipped: 2 });
    expect(parseCountScriptReply([1, 1, '3', '12', 2, '4', '9007199254740991'])).toEqual({
      kind: 'straddled',
      fences: new Map([
        [0, new Map([[3, 12]])],
        [1, new Map([[4, 9007199254740991]])],
      ]),
    });
    expect(parseCountScriptReply([2, '3', ''])).toEqual({ kind: 'lost', partition: 3, stored: null });
    expect(parseCountScriptReply([2, '3', '41'])).toEqual({ kind: 'lost', partition: 3, stored: 41 });
    expect(() => parseCountScriptReply('OK')).toThrow(TypeError);
  });
});
