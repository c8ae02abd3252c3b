import { describe, expect, it } from 'vitest';
import { aggregateDeltas, filterAboveFence, segmentsOf, UnfenceableRecordError } from '../../../sinks/count-deltas.js';
import { countScriptArgs, parseCountScriptReply } from '../../../sinks/redis-count-script.js';
import type { SinkRecord } from '../../../sinks/sink.js';
import type { AcceptedVote } from '../../../voting/vote.js';
import { voteCountLayout } from '../../../voting/count-sink.js';

const layout = voteCountLayout();

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
    const deltas = aggregateDeltas(layout, batch);
    expect(deltas.map((d) => d.group)).toEqual(['e1', 'e2']);
    expect(deltas[0].records).toHaveLength(4);
    expect(deltas[0].segments).toEqual([
      { partition: 3, minOffset: 10, maxOffset: 13, records: 3, fields: [new Map([['c1', 2], ['c2', 1]]), new Map([['SP:c1', 1], ['SP:c2', 1]])] },
      { partition: 4, minOffset: 7, maxOffset: 7, records: 1, fields: [new Map([['c1', 1]]), new Map([['RJ:c1', 1]])] },
    ]);
    expect(deltas[1].segments).toEqual([{ partition: 3, minOffset: 11, maxOffset: 11, records: 1, fields: [new Map([['c9', 1]]), new Map()] }]);
  });

  it('refuses records without an input offset (punctuator output cannot be fenced)', () => {
    expect(() => aggregateDeltas(layout, [{ ...rec(3, 1, 'e1', 'c1'), offset: -1 }])).toThrow(UnfenceableRecordError);
  });

  it('refuses increments that are not safe integers or name no hash of the layout (the script must not fail half-way)', () => {
    const bad = (by: number, hash = 'counts') => ({ ...layout, increments: () => [{ hash, field: 'f', by }] });
    expect(() => aggregateDeltas(bad(1.5), [rec(3, 1, 'e1', 'c1')])).toThrow(TypeError);
    expect(() => aggregateDeltas(bad(1, 'nope'), [rec(3, 1, 'e1', 'c1')])).toThrow(TypeError);
    expect(aggregateDeltas(bad(-2), [rec(3, 1, 'e1', 'c1')])[0].segments[0].fields[0]).toEqual(new Map([['f', -2]]));
  });

  it('an empty batch has no deltas', () => {
    expect(aggregateDeltas(layout, [])).toEqual([]);
    expect(segmentsOf(layout, [])).toEqual([]);
  });
});

describe('filterAboveFence', () => {
  it('keeps exactly the records above their partition fence and re-aggregates', () => {
    const [e1] = aggregateDeltas(layout, batch);
    const { deltas, dropped } = filterAboveFence(layout, e1, new Map([[3, 12]]));
    expect(dropped).toBe(2);
    expect(deltas.records.map((r) => [r.partition, r.offset])).toEqual([
      [4, 7],
      [3, 13],
    ]);
    expect(deltas.segments.map((s) => [s.partition, s.minOffset, s.maxOffset, s.records])).toEqual([
      [3, 13, 13, 1],
      [4, 7, 7, 1],
    ]);
  });

  it('drops everything at or below the fence, for any cut', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(0, 100 + i, 'e', `c${i % 3}`));
    for (let fence = 98; fence <= 110; fence++) {
      const { deltas, dropped } = filterAboveFence(layout, aggregateDeltas(layout, records)[0], new Map([[0, fence]]));
      expect(deltas.records.map((r) => r.offset)).toEqual(records.map((r) => r.offset).filter((o) => o > fence));
      expect(dropped).toBe(records.length - deltas.records.length);
    }
  });
});

describe('count script encoding', () => {
  it('lays ARGV out as documented', () => {
    const [e1] = aggregateDeltas(layout, batch);
    const watermarks = [
      { partition: 3, known: 9, raiseTo: 13 },
      { partition: 4, known: null, raiseTo: 7 },
    ];
    const scriptLayout = { hashes: 2, totalHash: 1, totalField: '_total', publishHash: 1, groupName: 'electionId', recordsName: 'votes', deltasName: 'counts' };
    expect(countScriptArgs(watermarks, scriptLayout, [{ channel: 'vs:{e1}:updates', group: 'e1', segments: e1.segments }])).toEqual([
      '2', '3', '9', '13', '4', '', '7',
      '2', '1', '_total', '1', 'electionId', 'votes', 'counts',
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
