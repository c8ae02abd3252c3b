import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ChainVerifier,
  chainPk,
  chainRoot,
  electionPk,
  electionRoot,
  GENESIS_HASH,
  HEAD_SK,
  HashChainError,
  merkleRoot,
  verifyChain,
  voteHash,
  voteHashPreimage,
  voteSk,
  type ChainLink,
} from '../../../voting/index.js';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const ZERO = '0000000000000000000000000000000000000000000000000000000000000000';
const V1 = '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80';
const V2 = '0b7e5c1d-2a3f-4e6b-8c9d-1f2e3d4c5b6a';
// Computed outside node with: printf '%s' '<preimage>' | sha256sum
const H1 = '9c739a47061e4292d583db672270501585f99e41226c48a96717e028b958c3ae';
const H2 = '2c8b655b83f4a4a4789ffc981432dcad2c780b18531604d1ad2f29586758a82b';

const link1: ChainLink = { prevHash: GENESIS_HASH, electionId: 'e1', partition: 3, seq: 1, voteId: V1, voterId: 'u42', candidateId: 'c3', region: 'SP', ts: 1763800000000, hash: H1 };
const link2: ChainLink = { prevHash: H1, electionId: 'e1', partition: 3, seq: 2, voteId: V2, voterId: 'u7', candidateId: 'c1', ts: 1763800000500, hash: H2 };

function buildChain(n: number, electionId = 'e1', partition = 3): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields = { prevHash: prev, electionId, partition, seq, voteId: V1, voterId: `u${seq}`, candidateId: `c${seq % 3}`, region: seq % 2 ? 'SP' : undefined, ts: 1763800000000 + seq };
    const hash = voteHash(fields);
    links.push({ ...fields, hash });
    prev = hash;
  }
  return links;
}

describe('voteHash', () => {
  it('GENESIS_HASH is 64 zeros', () => {
    expect(GENESIS_HASH).toBe(ZERO);
  });

  it('hashes the fields joined by | in DESIGN order', () => {
    const preimage = `${ZERO}|e1|3|1|${V1}|u42|c3|SP|1763800000000`;
    expect(voteHashPreimage(link1)).toBe(preimage);
    expect(voteHash(link1)).toBe(sha(preimage));
    expect(voteHash(link1)).toBe(H1);
  });

  it('hashes a missing region as the empty field', () => {
    const preimage = `${H1}|e1|3|2|${V2}|u7|c1||1763800000500`;
    expect(voteHashPreimage(link2)).toBe(preimage);
    expect(voteHash(link2)).toBe(sha(preimage));
    expect(voteHash(link2)).toBe(H2);
    expect(voteHash({ ...link2, region: '' })).toBe(H2);
  });

  it('writes numbers in decimal without padding', () => {
    expect(voteHashPreimage({ ...link1, partition: 0, seq: 1000000, ts: 0 })).toBe(`${ZERO}|e1|0|1000000|${V1}|u42|c3|SP|0`);
  });

  it('refuses input that would make the preimage ambiguous', () => {
    expect(() => voteHash({ ...link1, voterId: 'u|42' })).toThrow(new HashChainError('voterId must not contain "|": "u|42"'));
    expect(() => voteHash({ ...link1, seq: 0 })).toThrow('seq must be a safe integer >= 1, got 0');
    expect(() => voteHash({ ...link1, ts: 1.5 })).toThrow('ts must be a safe integer >= 0, got 1.5');
    expect(() => voteHash({ ...link1, prevHash: ZERO.toUpperCase().replace(/0/g, 'A') })).toThrow(/^prevHash must be 64 lowercase hex digits/);
  });
});

describe('DynamoDB keys', () => {
  it('builds exact keys', () => {
    expect(chainPk('e1', 3)).toBe('ELECTION#e1#P#003');
    expect(chainPk('e1', 0)).toBe('ELECTION#e1#P#000');
    expect(chainPk('e1', 999)).toBe('ELECTION#e1#P#999');
    expect(voteSk(1)).toBe('VOTE#000000000001');
    expect(voteSk(123456789012)).toBe('VOTE#123456789012');
    expect(HEAD_SK).toBe('HEAD');
    expect(electionPk('e1')).toBe('ELECTION#e1');
  });

  it('rejects values the padding cannot hold', () => {
    expect(() => chainPk('e1', 1000)).toThrow('partition must be an integer in 0..999, got 1000');
    expect(() => chainPk('e1', -1)).toThrow('partition must be an integer in 0..999, got -1');
    expect(() => voteSk(0)).toThrow('seq must be an integer in 1..999999999999, got 0');
    expect(() => voteSk(1e12)).toThrow('seq must be an integer in 1..999999999999, got 1000000000000');
  });
});

describe('verifyChain', () => {
  it('accepts the hand-computed chain and an empty chain', () => {
    expect(verifyChain([link1, link2])).toStrictEqual({ ok: true, count: 2, lastSeq: 2, lastHash: H2 });
    expect(verifyChain([link1, link2], { lastSeq: 2, lastHash: H2 })).toStrictEqual({ ok: true, count: 2, lastSeq: 2, lastHash: H2 });
    expect(verifyChain([])).toStrictEqual({ ok: true, count: 0, lastSeq: 0, lastHash: GENESIS_HASH });
  });

  it('detects a changed candidateId', () => {
    const links = buildChain(5);
    const tampered = links.map((l) => (l.seq === 3 ? { ...l, candidateId: 'c9' } : l));
    const expected = voteHash(tampered[2]);
    expect(verifyChain(tampered)).toStrictEqual({ ok: false, kind: 'hash', seq: 3, expected, actual: links[2].hash });
  });

  it('detects a changed candidateId whose hash was recomputed, at the next link', () => {
    const links = buildChain(5);
    const forged = { ...links[2], candidateId: 'c9' };
    forged.hash = voteHash(forged);
    const tampered = [links[0], links[1], forged, links[3], links[4]];
    expect(verifyChain(tampered)).toStrictEqual({ ok: false, kind: 'prevHash', seq: 4, expected: forged.hash, actual: links[2].hash });
  });

  it('detects a gap in seq, a repeat, and a chain not starting at 1', () => {
    const links = buildChain(5);
    expect(verifyChain([links[0], links[1], links[3], links[4]])).toStrictEqual({ ok: false, kind: 'seq', seq: 4, expected: '3', actual: '4' });
    expect(verifyChain([links[0], links[1], links[1]])).toStrictEqual({ ok: false, kind: 'seq', seq: 2, expected: '3', actual: '2' });
    expect(verifyChain(links.slice(1))).toStrictEqual({ ok: false, kind: 'seq', seq: 2, expected: '1', actual: '2' });
  });

  it('detects a wrong prevHash', () => {
    const links = buildChain(3);
    const bad = 'f'.repeat(64);
    expect(verifyChain([links[0], { ...links[1], prevHash: bad }, links[2]])).toStrictEqual({ ok: false, kind: 'prevHash', seq: 2, expected: links[0].hash, actual: bad });
    expect(verifyChain([{ ...links[0], prevHash: bad }])).toStrictEqual({ ok: false, kind: 'prevHash', seq: 1, expected: GENESIS_HASH, actual: bad });
  });

  it('detects links from another chain', () => {
    const a = buildChain(2, 'e1', 3);
    const b = buildChain(2, 'e1', 4);
    expect(verifyChain([a[0], b[1]])).toStrictEqual({ ok: false, kind: 'chain', seq: 2, expected: 'ELECTION#e1#P#003', actual: 'ELECTION#e1#P#004' });
  });

  it('detects a head that does not match the chain (truncation)', () => {
    const links = buildChain(4);
    expect(verifyChain(links.slice(0, 3), { lastSeq: 4, lastHash: links[3].hash })).toStrictEqual({ ok: false, kind: 'head', seq: 4, expected: '3', actual: '4' });
    expect(verifyChain(links, { lastSeq: 4, lastHash: links[2].hash })).toStrictEqual({ ok: false, kind: 'head', seq: 4, expected: links[3].hash, actual: links[2].hash });
  });

  it('reports an unhashable link as a hash break instead of throwing', () => {
    const r = verifyChain([{ ...link1, voterId: 'a|b' }]);
    expect(r).toStrictEqual({ ok: false, kind: 'hash', seq: 1, expected: '(unhashable: voterId must not contain "|": "a|b")', actual: H1 });
  });

  it('ChainVerifier verifies page by page and sticks to the first break', () => {
    const links = buildChain(6);
    const v = new ChainVerifier();
    for (const l of links.slice(0, 3)) expect(v.push(l)).toBe(undefined);
    for (const l of links.slice(3)) expect(v.push(l)).toBe(undefined);
    expect(v.finish({ lastSeq: 6, lastHash: links[5].hash })).toStrictEqual({ ok: true, count: 6, lastSeq: 6, lastHash: links[5].hash });
    const w = new ChainVerifier();
    w.push(links[0]);
    const broken = w.push(links[2]);
    expect(broken).toStrictEqual({ ok: false, kind: 'seq', seq: 3, expected: '2', actual: '3' });
    expect(w.push(links[1])).toBe(broken);
    expect(w.finish()).toBe(broken);
  });
});

describe('merkleRoot (RFC 9162 over the hashes\' bytes)', () => {
  // a, b, c = sha256("a"), sha256("b"), sha256("c")
  const a = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
  const b = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
  const c = '2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
  const leaf = (h: string) => createHash('sha256').update(Buffer.from(`00${h}`, 'hex')).digest('hex');
  const pair = (l: string, r: string) => createHash('sha256').update(Buffer.from(`01${l}${r}`, 'hex')).digest('hex');

  it('leaves are the expected sha256 values', () => {
    expect([sha('a'), sha('b'), sha('c')]).toStrictEqual([a, b, c]);
  });

  it('0 leaves -> sha256 of nothing, 1 leaf -> sha256(0x00 || bytes(a))', () => {
    expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // printf '00%s' $a | xxd -r -p | sha256sum
    expect(merkleRoot([a])).toBe('a23bd5b06da9048238a65b3f1d9d0b9e15fae3dde262688e6489aa4c763d1820');
    expect(merkleRoot([a])).toBe(leaf(a));
  });

  it('2 leaves -> sha256(0x01 || leaf(a) || leaf(b))', () => {
    expect(merkleRoot([a, b])).toBe('ad5ca6cddc0b27c6a83e332bf28011769236e6c6a1f786ebf7b5267b37a5bd22');
    expect(merkleRoot([a, b])).toBe(pair(leaf(a), leaf(b)));
    expect(merkleRoot([b, a])).not.toBe(merkleRoot([a, b]));
  });

  it('3 leaves -> split at 2: the odd leaf is not duplicated', () => {
    expect(merkleRoot([a, b, c])).toBe('cac3d448d4e20a2ad5eae1f500e63c2a7f9217cd14572ba7fd22e26dc1ec2648');
    expect(merkleRoot([a, b, c])).toBe(pair(pair(leaf(a), leaf(b)), leaf(c)));
    expect(merkleRoot([a, b, c, c])).toBe('9d33f58b8278558c024289455085c05d2037eedf3fb1938c8e8c49a10603f687');
    expect(merkleRoot([a, b, c])).not.toBe(merkleRoot([a, b, c, c]));
  });

  it('5 leaves -> split at 4: ((ab)(cd))e', () => {
    const [d, e] = [sha('d'), sha('e')];
    expect(merkleRoot([a, b, c, d, e])).toBe(pair(pair(pair(leaf(a), leaf(b)), pair(leaf(c), leaf(d))), leaf(e)));
  });

  it('rejects leaves that are not 64 lowercase hex digits', () => {
    expect(() => merkleRoot([a, 'xyz'])).toThrow('leaf 1 must be 64 lowercase hex digits, got "xyz"');
    expect(() => merkleRoot([a.toUpperCase()])).toThrow(/^leaf 0 must be 64 lowercase hex digits/);
  });

  it('electionRoot is merkleRoot of the chain roots in partition order and refuses duplicates', () => {
    const roots = [chainRoot([a, b]), chainRoot([c]), chainRoot([b, c, a])];
    expect(electionRoot([{ partition: 7, root: roots[2] }, { partition: 0, root: roots[0] }, { partition: 2, root: roots[1] }])).toBe(merkleRoot(roots));
    expect(() => electionRoot([{ partition: 1, root: a }, { partition: 1, root: b }])).toThrow('partition 1 appears twice');
  });
});
