import { describe, expect, it } from 'vitest';
import {
  buildEntries,
  chainTransaction,
  ChainItemError,
  decodeHead,
  EMPTY_CHAIN,
  headItem,
  isReservedChainKey,
  MAX_ENTRIES_PER_TRANSACTION,
  stateAfter,
  type ChainState,
} from '../../../sinks/chain-items.js';
import type { SinkRecord } from '../../../sinks/sink.js';
import { buildLinks, decodeVoteItem, voteChainLayout, voteItem, type ChainInput } from '../../../voting/vote-chain.js';
import type { AcceptedVote } from '../../../voting/vote.js';
import { GENESIS_HASH, verifyChain } from '../../../voting/hash-chain.js';

const V1 = '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80';
const V2 = '0b7e5c1d-2a3f-4e6b-8c9d-1f2e3d4c5b6a';
// The same links as test/unit/voting/hash-chain.test.ts, whose hashes were computed outside node:
// printf '%s' '<preimage>' | sha256sum
const H1 = '9c739a47061e4292d583db672270501585f99e41226c48a96717e028b958c3ae';
const H2 = '2c8b655b83f4a4a4789ffc981432dcad2c780b18531604d1ad2f29586758a82b';

const inputs: ChainInput[] = [
  { offset: 500, vote: { voteId: V1, electionId: 'e1', voterId: 'u42', candidateId: 'c3', region: 'SP', ts: 1763800000000, source: { partition: 3, offset: 9000 } } },
  { offset: 507, vote: { voteId: V2, electionId: 'e1', voterId: 'u7', candidateId: 'c1', ts: 1763800000500, source: { partition: 3, offset: 9001 } } },
];

const PK = 'ELECTION#e1#P#003';
const HEAD = (state: ChainState) => headItem(PK, 'HEAD', state);
function entries(state: ChainState, list: readonly ChainInput[]) {
  const records: SinkRecord<string, AcceptedVote>[] = list.map(({ offset, vote }) => ({ topic: 'votes-accepted', partition: 3, offset, timestamp: 0, key: vote.voterId, value: vote, headers: {} }));
  return buildEntries(voteChainLayout, PK, state, records);
}

describe('buildLinks', () => {
  it('computes seq, prevHash and the exact DESIGN hashes from the chain state', () => {
    const links = buildLinks('e1', 3, EMPTY_CHAIN, inputs);
    expect(links).toEqual([
      { prevHash: GENESIS_HASH, electionId: 'e1', partition: 3, seq: 1, voteId: V1, voterId: 'u42', candidateId: 'c3', region: 'SP', ts: 1763800000000, hash: H1, offset: 500, sourceOffset: 9000 },
      { prevHash: H1, electionId: 'e1', partition: 3, seq: 2, voteId: V2, voterId: 'u7', candidateId: 'c1', region: undefined, ts: 1763800000500, hash: H2, offset: 507, sourceOffset: 9001 },
    ]);
    expect(stateAfter(EMPTY_CHAIN, links)).toEqual({ lastSeq: 2, lastHash: H2, lastOffset: 507 });
    expect(verifyChain(links, { lastSeq: 2, lastHash: H2 })).toEqual({ ok: true, count: 2, lastSeq: 2, lastHash: H2 });
  });

  it('continues a chain from its head', () => {
    const [second] = buildLinks('e1', 3, { lastSeq: 1, lastHash: H1, lastOffset: 500 }, inputs.slice(1));
    expect(second.seq).toBe(2);
    expect(second.hash).toBe(H2);
  });

  it('refuses inputs at or below the fence', () => {
    expect(() => buildLinks('e1', 3, { lastSeq: 1, lastHash: H1, lastOffset: 500 }, inputs)).toThrow(ChainItemError);
  });

  it('the generic entries under the vote layout are the same links', () => {
    expect(entries(EMPTY_CHAIN, inputs).map((e) => [e.chain, e.seq, e.prevHash, e.hash, e.offset])).toEqual([
      [PK, 1, GENESIS_HASH, H1, 500],
      [PK, 2, H1, H2, 507],
    ]);
    expect(isReservedChainKey(PK)).toBe(false);
    expect(isReservedChainKey('PARTITION#003')).toBe(true);
  });
});

describe('items', () => {
  const links = buildLinks('e1', 3, EMPTY_CHAIN, inputs);

  it('vote items carry exactly the DESIGN attributes (region absent when missing)', () => {
    expect(voteItem(links[0])).toEqual({
      pk: { S: 'ELECTION#e1#P#003' },
      sk: { S: 'VOTE#000000000001' },
      voteId: { S: V1 },
      voterId: { S: 'u42' },
      candidateId: { S: 'c3' },
      region: { S: 'SP' },
      ts: { N: '1763800000000' },
      offset: { N: '500' },
      sourceOffset: { N: '9000' },
      prevHash: { S: GENESIS_HASH },
      hash: { S: H1 },
    });
    expect(voteItem(links[1]).region).toBeUndefined();
  });

  it('round-trip through decode', () => {
    const back = links.map((l) => decodeVoteItem(voteItem(l)));
    expect(back[0]).toEqual(links[0]);
    expect(back[1]).toEqual({ ...links[1], region: undefined });
    expect('region' in back[1]).toBe(false);
    const head = HEAD({ lastSeq: 2, lastHash: H2, lastOffset: 507 });
    expect(head).toEqual({ pk: { S: 'ELECTION#e1#P#003' }, sk: { S: 'HEAD' }, lastSeq: { N: '2' }, lastHash: { S: H2 }, lastOffset: { N: '507' } });
    expect(decodeHead(head)).toEqual({ lastSeq: 2, lastHash: H2, lastOffset: 507 });
    expect(decodeHead(undefined)).toEqual(EMPTY_CHAIN);
  });

  it('a transaction: vote Puts that must not exist, then the head conditioned on the previous one', () => {
    const first = chainTransaction('t', voteChainLayout, EMPTY_CHAIN, entries(EMPTY_CHAIN, inputs.slice(0, 1)));
    expect(first).toEqual([
      { Put: { TableName: 't', Item: voteItem(links[0]), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: 't', Item: HEAD({ lastSeq: 1, lastHash: H1, lastOffset: 500 }), ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
    const state = { lastSeq: 1, lastHash: H1, lastOffset: 500 };
    const second = chainTransaction('t', voteChainLayout, state, entries(state, inputs.slice(1)));
    expect(second[0]).toEqual({ Put: { TableName: 't', Item: voteItem(links[1]), ConditionExpression: 'attribute_not_exists(pk)' } });
    expect(second[1]).toEqual({
      Put: {
        TableName: 't',
        Item: HEAD({ lastSeq: 2, lastHash: H2, lastOffset: 507 }),
        ConditionExpression: 'lastSeq = :prev',
        ExpressionAttributeValues: { ':prev': { N: '1' } },
      },
    });
    expect(() => chainTransaction('t', voteChainLayout, EMPTY_CHAIN, [])).toThrow(ChainItemError);
    const many = entries(EMPTY_CHAIN, Array.from({ length: MAX_ENTRIES_PER_TRANSACTION + 1 }, (_, i) => ({ ...inputs[0], offset: i })));
    // 98 votes, the head and the watermark guard: DynamoDB's 100 actions.
    expect(chainTransaction('t', voteChainLayout, EMPTY_CHAIN, many.slice(0, MAX_ENTRIES_PER_TRANSACTION), { partition: 3, known: -1 })).toHaveLength(100);
    expect(() => chainTransaction('t', voteChainLayout, EMPTY_CHAIN, many)).toThrow(ChainItemError);
  });
});
