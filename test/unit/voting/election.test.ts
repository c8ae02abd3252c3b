import { describe, expect, it } from 'vitest';
import { decodeElection, encodeElection, parseElection, type Election } from '../../../voting/index.js';

const election: Election = {
  electionId: 'e1',
  title: 'Mayor 2025',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c3', name: 'Bruno' },
  ],
  regions: ['SP', 'RJ'],
  opensAt: 1763790000000,
  closesAt: 1763810000000,
  status: 'open',
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeElection', () => {
  it('decodes a valid election and round-trips through encodeElection', () => {
    expect(decodeElection(json(election))).toStrictEqual({ ok: true, election });
    expect(encodeElection(election).toString()).toBe(
      '{"electionId":"e1","title":"Mayor 2025","candidates":[{"id":"c1","name":"Ana"},{"id":"c3","name":"Bruno"}],"regions":["SP","RJ"],"opensAt":1763790000000,"closesAt":1763810000000,"status":"open"}',
    );
    expect(decodeElection(encodeElection(election))).toStrictEqual({ ok: true, election });
  });

  it('strips unknown fields (forward compatible) and accepts empty regions', () => {
    expect(decodeElection(json({ ...election, regions: [], futureField: 1 }))).toStrictEqual({ ok: true, election: { ...election, regions: [] } });
  });

  const invalid: [string, unknown, string][] = [
    ['no candidates', { ...election, candidates: [] }, 'candidates: Too small: expected array to have >=1 items'],
    [
      'duplicate candidate ids and regions',
      { ...election, candidates: [{ id: 'c1', name: 'A' }, { id: 'c1', name: 'B' }], regions: ['SP', 'SP'] },
      'candidates.1.id: duplicate candidate id "c1"; regions.1: duplicate region "SP"',
    ],
    ['opensAt == closesAt', { ...election, closesAt: election.opensAt }, 'closesAt: must be greater than opensAt'],
    ['opensAt > closesAt', { ...election, closesAt: election.opensAt - 1 }, 'closesAt: must be greater than opensAt'],
    ['bad status', { ...election, status: 'paused' }, 'status: Invalid option: expected one of "draft"|"open"|"closed"'],
    ['missing title', { ...election, title: undefined }, 'title: required'],
    ['reserved candidate id', { ...election, candidates: [{ id: '_total', name: 'X' }] }, 'candidates.0.id: must start with a letter or digit and contain only letters, digits and . _ @ + -'],
    ['empty candidate name', { ...election, candidates: [{ id: 'c1', name: '' }] }, 'candidates.0.name: Too small: expected string to have >=1 characters'],
    ['fractional opensAt', { ...election, opensAt: 1.5 }, 'opensAt: Invalid input: expected int, received number'],
  ];
  it.each(invalid)('%s', (_name, value, error) => {
    expect(decodeElection(json(value))).toStrictEqual({ ok: false, error });
    expect(parseElection(JSON.parse(JSON.stringify(value)))).toStrictEqual({ ok: false, error });
  });

  it('reports undecodable values without throwing', () => {
    expect(decodeElection(null)).toStrictEqual({ ok: false, error: 'record value is null' });
    expect(decodeElection(Buffer.from('{'))).toStrictEqual({ ok: false, error: `invalid JSON: Expected property name or '}' in JSON at position 1` });
    expect(decodeElection(Buffer.from([0xc3]))).toStrictEqual({ ok: false, error: 'record value is not valid UTF-8' });
    expect(decodeElection('[]')).toStrictEqual({ ok: false, error: '(root): Invalid input: expected object, received array' });
  });
});
