import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import type { Election } from '../../../voting/election.js';
import { MAX_VOTE_AHEAD_MS, votingTopology } from '../../../voting/topology.js';

const e1: Election = {
  electionId: 'e1',
  version: 1,
  effectiveAt: 0,
  title: 'Mayor',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c2', name: 'Bo' },
  ],
  regions: ['N', 'S'],
  opensAt: 1000,
  closesAt: 5000,
};
/** Piped records are stamped here, after every vote's ts, as the gateway's records are. */
const APPENDED_AT = 10_000;
const vote = (n: number, voterId: string, over: Record<string, unknown> = {}) => ({
  voteId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  electionId: 'e1',
  voterId,
  candidateId: 'c1',
  ts: 2000 + n,
  ...over,
});

describe('the voting topology under the TopologyTestDriver', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('accepts each voter once per election and rejects the rest with the exact reason', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    await driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>()).pipeInput('e1', e1);
    const votes = driver.createInputTopic('votes', Serdes.string(), Serdes.bytes());
    const send = (key: string, value: unknown) => votes.pipeInput(key, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

    await send('u1', vote(1, 'u1', { region: 'N' })); // offset 0: accepted
    await send('u2', vote(2, 'u2', { candidateId: 'c2' })); // 1: accepted
    await send('u1', vote(3, 'u1', { candidateId: 'c2' })); // 2: duplicate of u1
    await send('u3', vote(4, 'u3', { electionId: 'e9' })); // 3: unknown election
    await send('u4', vote(5, 'u4', { candidateId: 'c7' })); // 4: unknown candidate
    await send('u5', vote(6, 'u5', { ts: 5001 })); // 5: late (past closesAt)
    await send('u6', vote(7, 'u6', { ts: 5000 })); // 6: accepted (closesAt is inclusive)
    await send('u7', { voteId: 'x', electionId: 'e1', voterId: 'u7', candidateId: 'c1', ts: 2100 }); // 7: malformed (voteId not a uuid)
    await send('u8', '{not json'); // 8: undecodable -> votes-dlq
    await send('u2', vote(9, 'u2', { candidateId: 'c1' })); // 9: duplicate of u2
    await send('u5', vote(10, 'u5', { ts: 4000 })); // 10: accepted: the late vote was not counted, so this is u5's first valid vote

    const accepted = driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(accepted).toEqual([
      { key: 'u1', value: { ...vote(1, 'u1', { region: 'N' }), source: { partition: 0, offset: 0 } } },
      { key: 'u2', value: { ...vote(2, 'u2', { candidateId: 'c2' }), source: { partition: 0, offset: 1 } } },
      { key: 'u6', value: { ...vote(7, 'u6', { ts: 5000 }), source: { partition: 0, offset: 6 } } },
      { key: 'u5', value: { ...vote(10, 'u5', { ts: 4000 }), source: { partition: 0, offset: 10 } } },
    ]);
    const rejected = driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(rejected).toEqual([
      { key: 'u1', value: { ...vote(3, 'u1', { candidateId: 'c2' }), reason: 'duplicate' } },
      { key: 'u3', value: { ...vote(4, 'u3', { electionId: 'e9' }), reason: 'unknown-election' } },
      { key: 'u4', value: { ...vote(5, 'u4', { candidateId: 'c7' }), reason: 'unknown-candidate' } },
      { key: 'u5', value: { ...vote(6, 'u5', { ts: 5001 }), reason: 'closed' } },
      { key: 'u7', value: { voteId: 'x', electionId: 'e1', voterId: 'u7', candidateId: 'c1', ts: 2100, reason: 'malformed' } },
      { key: 'u2', value: { ...vote(9, 'u2', { candidateId: 'c1' }), reason: 'duplicate' } },
    ]);
    const dlq = driver.createOutputTopic('votes-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(dlq.map((r) => ({ key: r.key, value: r.value.toString(), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()])) }))).toEqual([
      {
        key: 'u8',
        value: '{not json',
        headers: {
          error: expect.stringContaining('undecodable vote on "votes"'),
          'source-topic': 'votes',
          'source-partition': '0',
          'source-offset': '8',
        },
      },
    ]);
    const voters = await driver.getKeyValueStore<string>('voters');
    const entries: [string, string][] = [];
    for await (const { key, value } of voters.range()) entries.push([key, value]);
    expect(entries).toEqual([
      ['e1:u1', vote(1, 'u1').voteId],
      ['e1:u2', vote(2, 'u2').voteId],
      ['e1:u5', vote(10, 'u5').voteId],
      ['e1:u6', vote(7, 'u6').voteId],
    ]);
  });

  it('rejects as malformed a vote whose key is not its voterId, or is null, and dedupes it nowhere (fault 7)', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    await driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>()).pipeInput('e1', e1);
    const votes = driver.createInputTopic('votes', Serdes.nullable(Serdes.string()), Serdes.bytes());
    const send = (key: string | null, value: unknown) => votes.pipeInput(key, Buffer.from(JSON.stringify(value)));

    await send('someone-else', vote(1, 'u1')); // 0: key is not the voterId
    await send(null, vote(2, 'u1')); // 1: no key
    await send('u1', vote(3, 'u1')); // 2: accepted: the two above were not counted for u1

    const accepted = driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(accepted).toEqual([{ key: 'u1', value: { ...vote(3, 'u1'), source: { partition: 0, offset: 2 } } }]);
    const rejected = driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(rejected).toEqual([
      { key: 'u1', value: { ...vote(1, 'u1'), reason: 'malformed' } },
      { key: 'u1', value: { ...vote(2, 'u1'), reason: 'malformed' } },
    ]);
    expect(driver.createOutputTopic('votes-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList()).toEqual([]);
  });

  it('judges each vote against the version in force at its ts: a candidate added later, an early close (fault 8)', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    const elections = driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>());
    await elections.pipeInput('e1', e1);
    // Published later, effective from 3000: a third candidate, then the close moved to 3500.
    await elections.pipeInput('e1', { ...e1, version: 2, effectiveAt: 3000, candidates: [...e1.candidates, { id: 'c3', name: 'Cy' }] });
    await elections.pipeInput('e1', { ...e1, version: 3, effectiveAt: 3500, candidates: [...e1.candidates, { id: 'c3', name: 'Cy' }], closesAt: 3500 });
    const votes = driver.createInputTopic('votes', Serdes.string(), Serdes.bytes());
    const send = (key: string, value: unknown) => votes.pipeInput(key, Buffer.from(JSON.stringify(value)));

    await send('u1', vote(1, 'u1', { candidateId: 'c3', ts: 2999 })); // 0: c3 unknown in version 1
    await send('u2', vote(2, 'u2', { candidateId: 'c3', ts: 3000 })); // 1: accepted under version 2
    await send('u3', vote(3, 'u3', { ts: 3500 })); // 2: accepted: closesAt is inclusive
    await send('u4', vote(4, 'u4', { ts: 3501 })); // 3: closed early by version 3
    await send('u5', vote(5, 'u5', { ts: 4000 })); // 4: closed although version 1 had the window open
    await send('u6', vote(6, 'u6', { ts: 999 })); // 5: before opensAt

    const accepted = driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(accepted.map((r) => r.key)).toEqual(['u2', 'u3']);
    const rejected = driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.json<{ reason: string }>()).readKeyValuesToList();
    expect(rejected.map((r) => [r.key, r.value.reason])).toEqual([
      ['u1', 'unknown-candidate'],
      ['u4', 'closed'],
      ['u5', 'closed'],
      ['u6', 'closed'],
    ]);
  });

  it('treats a vote before the first version of its election as unknown-election (fault 8)', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    await driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>()).pipeInput('e1', { ...e1, effectiveAt: 2500 });
    const votes = driver.createInputTopic('votes', Serdes.string(), Serdes.bytes());
    await votes.pipeInput('u1', Buffer.from(JSON.stringify(vote(1, 'u1', { ts: 2499 }))));
    await votes.pipeInput('u2', Buffer.from(JSON.stringify(vote(2, 'u2', { ts: 2500 }))));
    expect(driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.json()).readKeyValuesToList().map((r) => r.key)).toEqual(['u2']);
    expect(driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.json<{ reason: string }>()).readKeyValuesToList().map((r) => [r.key, r.value.reason])).toEqual([
      ['u1', 'unknown-election'],
    ]);
  });

  it('rejects as malformed a vote whose ts is more than MAX_VOTE_AHEAD_MS after its record timestamp', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    await driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>()).pipeInput('e1', { ...e1, closesAt: 100_000 });
    const votes = driver.createInputTopic('votes', Serdes.string(), Serdes.bytes());
    await votes.pipeInput('u1', Buffer.from(JSON.stringify(vote(1, 'u1', { ts: 1000 + MAX_VOTE_AHEAD_MS + 1 }))), 1000);
    await votes.pipeInput('u2', Buffer.from(JSON.stringify(vote(2, 'u2', { ts: 1000 + MAX_VOTE_AHEAD_MS }))), 1000);
    expect(driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.json()).readKeyValuesToList().map((r) => r.key)).toEqual(['u2']);
    expect(driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.json<{ reason: string }>()).readKeyValuesToList().map((r) => [r.key, r.value.reason])).toEqual([
      ['u1', 'malformed'],
    ]);
  });

  it('skips an elections record it cannot decode or that conflicts with the history, and applies the ones after it (fault 6)', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    const raw = driver.createInputTopic('elections', Serdes.string(), Serdes.bytes());
    await raw.pipeInput('e0', Buffer.from('{not json'));
    await raw.pipeInput('e1', Buffer.from(JSON.stringify({ ...e1, status: 'open', version: undefined })));
    await raw.pipeInput('e1', Buffer.from(JSON.stringify(e1)));
    await raw.pipeInput('e1', Buffer.from(JSON.stringify({ ...e1, title: 'rewritten' }))); // version 1 again, other content
    await driver.createInputTopic('elections', Serdes.string(), Serdes.nullable(Serdes.bytes())).pipeInput('e1', null); // a tombstone never erases a history
    await raw.pipeInput('e1', Buffer.from(JSON.stringify({ ...e1, version: 2, effectiveAt: 10, closesAt: 1500 })));
    const history = await driver.getKeyValueStore<Election[]>('elections');
    expect(await history.get('e1')).toEqual([e1, { ...e1, version: 2, effectiveAt: 10, closesAt: 1500 }]);
    expect(await history.get('e0')).toBe(undefined);
  });

  it('has a global store and three sub-topologies, count and persist each reading votes-accepted', () => {
    const topology = votingTopology({ prefix: 'p-' });
    expect(topology.globalStores.map((g) => [g.id, g.topic, g.storeName])).toEqual([[0, 'p-elections', 'elections']]);
    expect(topology.subTopologies.map((s) => [s.id, s.sourceTopics, s.sinkTopics, s.stores.map((st) => st.name)])).toEqual([
      [1, ['p-votes'], ['p-votes-rejected', 'p-votes-accepted'], ['voters']],
      [2, ['p-votes-accepted'], [], []],
      [3, ['p-votes-accepted'], [], []],
    ]);
    expect(votingTopology({ roles: ['count'] }).subTopologies.map((s) => s.sourceTopics)).toEqual([['votes-accepted']]);
  });
});
