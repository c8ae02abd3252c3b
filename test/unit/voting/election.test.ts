import { describe, expect, it } from 'vitest';
import { decodeElection, encodeElection, parseElection, type Election } from '../../../voting/index.js';
import { ElectionVersionError, mergeElectionVersion, nextVersion, versionAt } from '../../../voting/election.js';

const election: Election = {
  electionId: 'e1',
  version: 1,
  effectiveAt: 1763780000000,
  title: 'Mayor 2025',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c3', name: 'Bruno' },
  ],
  regions: ['SP', 'RJ'],
  opensAt: 1763790000000,
  closesAt: 1763810000000,
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeElection', () => {
  it('decodes a valid election and round-trips through encodeElection', () => {
    expect(decodeElection(json(election))).toStrictEqual({ ok: true, election });
    expect(encodeElection(election).toString()).toBe(
      '{"electionId":"e1","version":1,"effectiveAt":1763780000000,"title":"Mayor 2025","candidates":[{"id":"c1","name":"Ana"},{"id":"c3","name":"Bruno"}],"regions":["SP","RJ"],"opensAt":1763790000000,"closesAt":1763810000000}',
    );
    expect(decodeElection(encodeElection(election))).toStrictEqual({ ok: true, election });
  });

  it('strips unknown fields (forward compatible, including the old status) and accepts empty regions', () => {
    expect(decodeElection(json({ ...election, regions: [], futureField: 1, status: 'closed' }))).toStrictEqual({ ok: true, election: { ...election, regions: [] } });
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
    ['no version (a record of the old format)', { ...election, version: undefined }, 'version: required'],
    ['version 0', { ...election, version: 0 }, 'version: Too small: expected number to be >=1'],
    ['no effectiveAt', { ...election, effectiveAt: undefined }, 'effectiveAt: required'],
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

describe('election versions', () => {
  const v1 = election;
  const v2 = nextVersion(v1, { candidates: [...v1.candidates, { id: 'c4', name: 'Carla' }] }, 1763800000000);
  const v3 = nextVersion(v2, { closesAt: 1763805000000 }, 1763805000000);

  it('folds versions in order, ignores an identical republication and refuses conflicts', () => {
    expect(v2).toStrictEqual({ ...v1, version: 2, effectiveAt: 1763800000000, candidates: [...v1.candidates, { id: 'c4', name: 'Carla' }] });
    const history = mergeElectionVersion(mergeElectionVersion(mergeElectionVersion(undefined, v1, 'e1'), v2, 'e1'), v3, 'e1');
    expect(history).toStrictEqual([v1, v2, v3]);
    expect(mergeElectionVersion(history, { ...v2 }, 'e1')).toBe(history);
    expect(() => mergeElectionVersion(history, { ...v2, title: 'other' }, 'e1')).toThrow(
      new ElectionVersionError('version 2 of "e1" conflicts with the history (latest is 3)'),
    );
    expect(() => mergeElectionVersion(history, { ...v3, version: 4, effectiveAt: v3.effectiveAt - 1 }, 'e1')).toThrow(
      new ElectionVersionError('version 4 of "e1" is effective at 1763804999999, before version 3 (1763805000000)'),
    );
    expect(() => mergeElectionVersion(undefined, v1, 'e2')).toThrow(new ElectionVersionError('record key "e2" is not its electionId "e1"'));
    // A gap (a skipped record) does not freeze the election.
    expect(mergeElectionVersion([v1], v3, 'e1')).toStrictEqual([v1, v3]);
  });

  it('picks the version with the greatest effectiveAt <= ts, the later one on a tie', () => {
    const history = [v1, v2, v3];
    expect(versionAt(history, v1.effectiveAt - 1)).toBe(undefined);
    expect(versionAt(history, v1.effectiveAt)).toBe(v1);
    expect(versionAt(history, v2.effectiveAt - 1)).toBe(v1);
    expect(versionAt(history, v2.effectiveAt)).toBe(v2);
    expect(versionAt(history, v3.effectiveAt + 10)).toBe(v3);
    const tie = { ...v2, version: 3, title: 'same instant' };
    expect(versionAt([v1, v2, tie], v2.effectiveAt)).toBe(tie);
    expect(versionAt(undefined, 0)).toBe(undefined);
  });
});
