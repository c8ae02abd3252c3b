/**
 * The dedup topology's output bytes, not just their JSON: `votes-accepted` and `votes-rejected`
 * values are compared byte for byte with the Kafka Streams peer, so the direct encoders behind the
 * sinks must write exactly `JSON.stringify` of the documented objects, fields in schema order,
 * whatever order the input had.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import type { Election } from '../../../voting/election.js';
import { votingTopology } from '../../../voting/topology.js';

const APPENDED_AT = 10_000;
const CANDIDATE = 'C.a_b@c+d-9';
const REGION = 'r-1.x_y@z+w';
const election: Election = {
  electionId: 'E-1.b_c@d+e',
  version: 1,
  effectiveAt: 0,
  title: 'Mayor',
  candidates: [
    { id: CANDIDATE, name: 'Ana' },
    { id: '0', name: 'Bo' },
  ],
  regions: [REGION, 'N'],
  opensAt: 0,
  closesAt: 9_000,
};

/** Oracle: the value object in schema order, as the worker documented it, then JSON.stringify. */
function expectedAccepted(v: Record<string, unknown>, offset: number): string {
  const { voteId, electionId, voterId, candidateId, region, ts } = v;
  const fields = region === undefined ? { voteId, electionId, voterId, candidateId, ts } : { voteId, electionId, voterId, candidateId, region, ts };
  return JSON.stringify({ ...fields, source: { partition: 0, offset } });
}
function expectedRejected(v: Record<string, unknown>, reason: string): string {
  const { voteId, electionId, voterId, candidateId, region, ts } = v;
  const fields = region === undefined ? { voteId, electionId, voterId, candidateId, ts } : { voteId, electionId, voterId, candidateId, region, ts };
  return JSON.stringify({ ...fields, reason });
}

describe('the voting topology output bytes', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('are JSON.stringify of the documented values, in schema order, for every kind of output', async () => {
    driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    await driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>()).pipeInput(election.electionId, election);
    const votes = driver.createInputTopic('votes', Serdes.string(), Serdes.bytes());

    const long = 'v'.repeat(127) + '9';
    const inputs: Record<string, unknown>[] = [
      // 0: accepted, region last in the input (as the generator writes it), upper-case UUID
      { voteId: 'ABCDEF01-2345-4678-89AB-CDEF01234567', electionId: election.electionId, voterId: 'a.b_c@d+e-f', candidateId: CANDIDATE, ts: 0, region: REGION },
      // 1: accepted, no region, fields in reverse order, a 128-char voter id, the max UUID
      { ts: 8_999, candidateId: '0', voterId: long, electionId: election.electionId, voteId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' },
      // 2: duplicate of 0
      { voteId: '00000000-0000-0000-0000-000000000000', electionId: election.electionId, voterId: 'a.b_c@d+e-f', candidateId: '0', region: 'N', ts: 5 },
      // 3: unknown candidate
      { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80', electionId: election.electionId, voterId: 'u3', candidateId: 'nobody', ts: 7 },
      // 4: unknown election
      { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f81', electionId: 'E9', voterId: 'u4', candidateId: '0', region: 'N', ts: 7 },
      // 5: closed
      { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f82', electionId: election.electionId, voterId: 'u5', candidateId: '0', ts: 9_001 },
      // 6: region not in the election: malformed, but schema-valid, so written as a rejected vote
      { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f83', electionId: election.electionId, voterId: 'u6', candidateId: '0', region: 'S', ts: 7 },
    ];
    for (const v of inputs) await votes.pipeInput(String(v.voterId), Buffer.from(JSON.stringify(v)));
    // 7: schema-invalid: the raw object as sent, escapes and non-ASCII included, plus reason
    const raw = '{"voteId":"x\\"y","voterId":"ü\\u0001","ts":"soon","reason":"closed","nested":{"a":[1,2.5e3]}}';
    await votes.pipeInput('u7', Buffer.from(raw));

    const accepted = driver.createOutputTopic('votes-accepted', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(accepted.map((r) => [r.key, r.value.toString('hex')])).toEqual([
      [inputs[0].voterId, Buffer.from(expectedAccepted(inputs[0], 0)).toString('hex')],
      [inputs[1].voterId, Buffer.from(expectedAccepted(inputs[1], 1)).toString('hex')],
    ]);
    expect(accepted[0].value.toString()).toBe(
      `{"voteId":"ABCDEF01-2345-4678-89AB-CDEF01234567","electionId":"E-1.b_c@d+e","voterId":"a.b_c@d+e-f","candidateId":"C.a_b@c+d-9","region":"r-1.x_y@z+w","ts":0,"source":{"partition":0,"offset":0}}`,
    );

    const rejected = driver.createOutputTopic('votes-rejected', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(rejected.map((r) => [r.key, r.value.toString('hex')])).toEqual([
      ['a.b_c@d+e-f', Buffer.from(expectedRejected(inputs[2], 'duplicate')).toString('hex')],
      ['u3', Buffer.from(expectedRejected(inputs[3], 'unknown-candidate')).toString('hex')],
      ['u4', Buffer.from(expectedRejected(inputs[4], 'unknown-election')).toString('hex')],
      ['u5', Buffer.from(expectedRejected(inputs[5], 'closed')).toString('hex')],
      ['u6', Buffer.from(expectedRejected(inputs[6], 'malformed')).toString('hex')],
      ['u7', Buffer.from('{"voteId":"x\\"y","voterId":"ü\\u0001","ts":"soon","nested":{"a":[1,2500]},"reason":"malformed"}').toString('hex')],
    ]);
  });
});
