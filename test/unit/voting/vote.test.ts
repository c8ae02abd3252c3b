import { describe, expect, it } from 'vitest';
import {
  AcceptedVoteSchema,
  decodeAcceptedVote,
  decodeVote,
  encodeJson,
  malformedRejection,
  toAcceptedVote,
  toOffset,
  toRejectedVote,
  validateVoteFast,
  VoteFormatError,
  VoteSchema,
  type Vote,
} from '../../../voting/index.js';

const UUID = '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80';
const base: Vote = { voteId: UUID, electionId: 'e1', voterId: 'u42', candidateId: 'c3', region: 'SP', ts: 1763800000000 };
const json = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');

describe('decodeVote: valid', () => {
  it('decodes the DESIGN example exactly', () => {
    const bytes = Buffer.from(`{"voteId":"${UUID}","electionId":"e1","voterId":"u42","candidateId":"c3","region":"SP","ts":1763800000000}`);
    expect(decodeVote(bytes)).toStrictEqual({ ok: true, vote: base });
  });

  it('decodes a vote without region (no region key in the result)', () => {
    const { region: _region, ...noRegion } = base;
    const r = decodeVote(json(noRegion));
    expect(r).toStrictEqual({ ok: true, vote: { voteId: UUID, electionId: 'e1', voterId: 'u42', candidateId: 'c3', ts: 1763800000000 } });
    expect(r.ok && 'region' in r.vote).toBe(false);
  });

  it('accepts strings, Uint8Array views with an offset, ts 0 and max lengths', () => {
    expect(decodeVote(JSON.stringify(base))).toStrictEqual({ ok: true, vote: base });
    const padded = Buffer.concat([Buffer.from('xx'), json(base), Buffer.from('yy')]);
    expect(decodeVote(new Uint8Array(padded.buffer, padded.byteOffset + 2, padded.length - 4))).toStrictEqual({ ok: true, vote: base });
    const edge = { ...base, ts: 0, voterId: 'v'.repeat(128), electionId: 'E'.repeat(64), candidateId: '9'.repeat(64), region: 'r'.repeat(64) };
    expect(decodeVote(json(edge))).toStrictEqual({ ok: true, vote: edge });
    const upper = { ...base, voteId: UUID.toUpperCase(), voterId: 'ana.maria+vote@example-mail.com' };
    expect(decodeVote(json(upper))).toStrictEqual({ ok: true, vote: upper });
  });
});

describe('decodeVote: malformed (JSON object failing the schema -> votes-rejected)', () => {
  const cases: [string, unknown, string][] = [
    ['empty object', {}, 'voteId: required; electionId: required; voterId: required; candidateId: required; ts: required'],
    ['source is only for accepted votes', { ...base, source: { partition: 1, offset: 2 } }, 'source: unknown field'],
    ['reason is only for rejected votes', { ...base, reason: 'closed' }, 'reason: unknown field'],
    ['two unknown fields', { ...base, a: 1, b: 2 }, 'a: unknown field; b: unknown field'],
    ['bad uuid', { ...base, voteId: 'abc' }, 'voteId: must be a UUID'],
    ['uuid version 0', { ...base, voteId: '6f1c3a2e-8b4d-0c1e-9f2a-3b4c5d6e7f80' }, 'voteId: must be a UUID'],
    ['uuid wrong variant', { ...base, voteId: '6f1c3a2e-8b4d-4c1e-cf2a-3b4c5d6e7f80' }, 'voteId: must be a UUID'],
    ['voterId too long', { ...base, voterId: 'x'.repeat(129) }, 'voterId: Too big: expected string to have <=128 characters'],
    ['electionId too long', { ...base, electionId: 'x'.repeat(65) }, 'electionId: Too big: expected string to have <=64 characters'],
    ['empty electionId', { ...base, electionId: '' }, 'electionId: Too small: expected string to have >=1 characters'],
    ['reserved candidate _total', { ...base, candidateId: '_total' }, 'candidateId: must start with a letter or digit and contain only letters, digits and . _ @ + -'],
    ['pipe in voterId', { ...base, voterId: 'a|b' }, 'voterId: must start with a letter or digit and contain only letters, digits and . _ @ + -'],
    ['colon in region', { ...base, region: 'SP:x' }, 'region: must start with a letter or digit and contain only letters, digits and . _ @ + -'],
    ['brace in electionId', { ...base, electionId: 'e}1' }, 'electionId: must start with a letter or digit and contain only letters, digits and . _ @ + -'],
    ['region null', { ...base, region: null }, 'region: Invalid input: expected string, received null'],
    ['candidateId number', { ...base, candidateId: 3 }, 'candidateId: Invalid input: expected string, received number'],
    ['ts negative', { ...base, ts: -1 }, 'ts: Too small: expected number to be >=0'],
    ['ts fractional', { ...base, ts: 1.5 }, 'ts: Invalid input: expected int, received number'],
    ['ts beyond 2^53-1', { ...base, ts: 2 ** 53 }, 'ts: Too big: expected int to be <=9007199254740991'],
    ['ts string', { ...base, ts: '1' }, 'ts: Invalid input: expected number, received string'],
  ];
  it.each(cases)('%s', (_name, value, error) => {
    expect(decodeVote(json(value))).toStrictEqual({ ok: false, kind: 'malformed', error, raw: JSON.parse(JSON.stringify(value)) });
  });

  it('treats a JSON __proto__ key as an unknown field, not as a prototype', () => {
    const r = decodeVote(`{"__proto__":{"x":1},"voteId":"${UUID}","electionId":"e1","voterId":"u42","candidateId":"c3","ts":1}`);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBe('__proto__: unknown field');
  });
});

describe('decodeVote: undecodable (-> votes-dlq)', () => {
  const cases: [string, Buffer | string | null, string][] = [
    ['null value (tombstone)', null, 'record value is null'],
    ['empty value', Buffer.alloc(0), 'invalid JSON: Unexpected end of JSON input'],
    ['not JSON', Buffer.from('not json'), `invalid JSON: Unexpected token 'o', "not json" is not valid JSON`],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'record value is not valid UTF-8'],
    ['JSON array', Buffer.from('[1]'), 'expected a JSON object, got an array'],
    ['JSON number', Buffer.from('42'), 'expected a JSON object, got a number'],
    ['JSON null', Buffer.from('null'), 'expected a JSON object, got null'],
    ['JSON string', Buffer.from('"x"'), 'expected a JSON object, got a string'],
  ];
  it.each(cases)('%s', (_name, bytes, error) => {
    expect(decodeVote(bytes)).toStrictEqual({ ok: false, kind: 'undecodable', error });
  });
});

describe('fast path agrees with the zod schema', () => {
  const { region: _r, ...noRegion } = base;
  const table: unknown[] = [
    base,
    noRegion,
    { ...base, ts: 0 },
    { ...base, ts: Number.MAX_SAFE_INTEGER },
    { ...base, ts: Number.MAX_SAFE_INTEGER + 1 },
    { ...base, ts: -0 },
    { ...base, ts: -1 },
    { ...base, ts: 1.5 },
    { ...base, ts: NaN },
    { ...base, ts: Infinity },
    { ...base, ts: '1' },
    { ...base, ts: null },
    { ...base, region: null },
    { ...base, region: '' },
    { ...base, region: 'r'.repeat(64) },
    { ...base, region: 'r'.repeat(65) },
    { ...base, region: undefined },
    { ...base, voterId: 'v'.repeat(128) },
    { ...base, voterId: 'v'.repeat(129) },
    { ...base, voterId: '' },
    { ...base, voterId: '-u' },
    { ...base, voterId: 'u-' },
    { ...base, voterId: 'ü' },
    { ...base, voterId: 'u 1' },
    { ...base, voterId: 'u\n' },
    { ...base, candidateId: '_total' },
    { ...base, candidateId: 'c#1' },
    { ...base, electionId: 'e:1' },
    { ...base, electionId: 'x'.repeat(64) },
    { ...base, electionId: 'x'.repeat(65) },
    { ...base, voteId: UUID.toUpperCase() },
    { ...base, voteId: '00000000-0000-0000-0000-000000000000' },
    { ...base, voteId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' },
    { ...base, voteId: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' },
    { ...base, voteId: '6f1c3a2e-8b4d-9c1e-9f2a-3b4c5d6e7f80' },
    { ...base, voteId: '6f1c3a2e-8b4d-4c1e-7f2a-3b4c5d6e7f80' },
    { ...base, voteId: `${UUID}0` },
    { ...base, voteId: `{${UUID}}` },
    { ...base, voteId: 1 },
    { ...base, extra: 1 },
    { ...base, source: { partition: 0, offset: 0 } },
    { ...base, reason: 'malformed' },
    JSON.parse(`{"__proto__":1,"voteId":"${UUID}","electionId":"e1","voterId":"u42","candidateId":"c3","ts":1}`),
    {},
    null,
    [],
    [base],
    'vote',
    42,
    Object.create({ inherited: 1, ...base }),
    Object.create(base),
    Object.assign(Object.create({ inherited: 1 }), base),
  ];
  const fields = ['voteId', 'electionId', 'voterId', 'candidateId', 'region', 'ts'] as const;
  const values: unknown[] = [undefined, null, '', 'a', 'A-1.b_c@d+e', '_x', '-x', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 0, -1, 1.5, 2 ** 53, UUID, true, {}, []];
  for (const field of fields) {
    for (const v of values) {
      const mutated: Record<string, unknown> = { ...base };
      if (v === undefined) delete mutated[field];
      else mutated[field] = v;
      table.push(mutated);
    }
  }
  it.each(table.map((v, i) => [i, v] as const))('case %i', (_i, value) => {
    const zod = VoteSchema.safeParse(value);
    const fast = validateVoteFast(value);
    expect(fast !== undefined).toBe(zod.success);
    if (zod.success) expect(fast).toStrictEqual(zod.data);
  });
});

describe('output values', () => {
  it('toAcceptedVote adds source with a numeric offset, in a fixed field order', () => {
    const accepted = toAcceptedVote({ ...base, extra: 'dropped' } as Vote, 3, 12345n);
    expect(encodeJson(accepted).toString()).toBe(
      `{"voteId":"${UUID}","electionId":"e1","voterId":"u42","candidateId":"c3","region":"SP","ts":1763800000000,"source":{"partition":3,"offset":12345}}`,
    );
    expect(AcceptedVoteSchema.safeParse(accepted).success).toBe(true);
  });

  it('decodeAcceptedVote reads votes-accepted values, and decodeVote rejects them', () => {
    const bytes = encodeJson(toAcceptedVote(base, 0, 7));
    expect(decodeAcceptedVote(bytes)).toStrictEqual({ ok: true, vote: { ...base, source: { partition: 0, offset: 7 } } });
    expect(decodeVote(bytes)).toMatchObject({ ok: false, kind: 'malformed', error: 'source: unknown field' });
    expect(decodeAcceptedVote(json(base))).toMatchObject({ ok: false, kind: 'malformed', error: 'source: required' });
    expect(decodeAcceptedVote(json({ ...base, source: { partition: 0, offset: '7' } }))).toMatchObject({
      ok: false,
      error: 'source.offset: Invalid input: expected number, received string',
    });
    expect(decodeAcceptedVote(json({ ...base, source: { partition: 0, offset: 7, x: 1 } }))).toMatchObject({
      ok: false,
      error: 'source.x: unknown field',
    });
  });

  it('toRejectedVote appends reason', () => {
    const { region: _r, ...noRegion } = base;
    expect(encodeJson(toRejectedVote(noRegion, 'closed')).toString()).toBe(
      `{"voteId":"${UUID}","electionId":"e1","voterId":"u42","candidateId":"c3","ts":1763800000000,"reason":"closed"}`,
    );
  });

  it('malformedRejection carries the raw object as is, plus reason (overwriting a raw reason)', () => {
    const r = decodeVote('{"voteId":"x","ts":"soon","reason":"closed","nested":{"a":[1,2]}}');
    if (r.ok || r.kind !== 'malformed') throw new Error('expected malformed');
    expect(r.error).toBe('voteId: must be a UUID; electionId: required; voterId: required; candidateId: required; ts: Invalid input: expected number, received string; reason: unknown field; nested: unknown field');
    expect(encodeJson(malformedRejection(r.raw)).toString()).toBe('{"voteId":"x","ts":"soon","nested":{"a":[1,2]},"reason":"malformed"}');
  });

  it('malformedRejection keeps a __proto__ key as data', () => {
    const r = decodeVote('{"__proto__":{"polluted":true},"voteId":1}');
    if (r.ok || r.kind !== 'malformed') throw new Error('expected malformed');
    const out = malformedRejection(r.raw);
    expect(encodeJson(out).toString()).toBe('{"__proto__":{"polluted":true},"voteId":1,"reason":"malformed"}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  });

  it('toOffset accepts bigint, decimal strings and numbers up to 2^53-1 only', () => {
    expect(toOffset(0n)).toBe(0);
    expect(toOffset(9007199254740991n)).toBe(9007199254740991);
    expect(toOffset('42')).toBe(42);
    expect(toOffset(42)).toBe(42);
    expect(() => toOffset(9007199254740992n)).toThrow(new VoteFormatError('offset 9007199254740992 is outside 0..9007199254740991'));
    expect(() => toOffset(-1n)).toThrow('offset -1 is outside 0..9007199254740991');
    expect(() => toOffset('042')).toThrow('offset "042" is not a decimal integer');
    expect(() => toOffset(1.5)).toThrow('offset 1.5 is not a safe integer >= 0');
    expect(() => toAcceptedVote(base, -1, 0)).toThrow('partition -1 is not an integer >= 0');
    // Must throw at all: an expect inside a catch passes when nothing is thrown.
    expect(() => toOffset(-1)).toThrow(expect.objectContaining({ name: VoteFormatError.name, code: 'VOTE_FORMAT' }));
    expect(() => toOffset(-1)).toThrow(VoteFormatError);
  });
});
