import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../runtime/partitioner.js';
import type { Election } from '../../../voting/election.js';
import { electionRecord } from '../../../voting/election-publisher.js';
import { topicNames } from '../../../voting/topics.js';
import type { Vote } from '../../../voting/vote.js';
import { createVotingTopics, readTopic, startDedupApp } from '../../support/dedup-app.js';
import { produce, testDriver } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

const PARTITIONS = 4;
const NOW = Date.now();
const e1: Election = {
  electionId: 'e1',
  version: 1,
  effectiveAt: NOW - 60_000,
  title: 'Mayor',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c2', name: 'Bo' },
  ],
  regions: [],
  opensAt: NOW - 60_000,
  closesAt: NOW + 3_600_000,
};
const vote = (n: number, voterId: string, over: Partial<Vote> = {}): Vote => ({
  voteId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  electionId: 'e1',
  voterId,
  candidateId: 'c1',
  ts: NOW - 1000 + n,
  ...over,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('judging votes on the real broker', () => {
  it('rejects as malformed a vote keyed by another voter or by nothing, so a voter is never accepted on two partitions (fault 7)', async () => {
    const { brokers } = services();
    const driver = testDriver(brokers);
    const prefix = uniquePrefix('key');
    const topics = topicNames(prefix);
    await createVotingTopics(driver, prefix, PARTITIONS);
    await produce(driver, [electionRecord(e1, prefix)]);

    const home = partitionForKey(Buffer.from('u1'), PARTITIONS);
    const otherKey = ['x1', 'x2', 'x3', 'x4', 'x5'].find((k) => partitionForKey(Buffer.from(k), PARTITIONS) !== home)!;
    await produce(driver, [
      { topic: topics.votes, key: Buffer.from(otherKey), value: json(vote(1, 'u1')) },
      { topic: topics.votes, partition: (home + 1) % PARTITIONS, key: null, value: json(vote(2, 'u1')) },
      { topic: topics.votes, key: Buffer.from('u1'), value: json(vote(3, 'u1', { candidateId: 'c2' })) },
    ]);

    const dedup = await startDedupApp(brokers, prefix, `${prefix}dedup`);
    await dedup.drainAndClose(driver);

    const accepted = await readTopic(driver, topics.votesAccepted);
    expect(accepted.map((r) => [r.partition, r.key?.toString(), JSON.parse(r.value!.toString()) as unknown])).toEqual([
      [home, 'u1', { ...vote(3, 'u1', { candidateId: 'c2' }), source: { partition: home, offset: 0 } }],
    ]);
    // Both land on u1's partition, in whichever order their two source partitions were processed.
    const rejected = (await readTopic(driver, topics.votesRejected)).map((r) => [r.partition, r.key?.toString(), JSON.parse(r.value!.toString()) as Vote] as const);
    expect(rejected.sort((a, b) => a[2].voteId.localeCompare(b[2].voteId))).toEqual([
      [home, 'u1', { ...vote(1, 'u1'), reason: 'malformed' }],
      [home, 'u1', { ...vote(2, 'u1'), reason: 'malformed' }],
    ]);
    expect(await readTopic(driver, topics.votesDlq)).toEqual([]);
  });

  it('skips elections records it cannot use, at start and while following, and applies every record after them (fault 6)', async () => {
    const { brokers } = services();
    const driver = testDriver(brokers);
    const prefix = uniquePrefix('bad-el');
    const topics = topicNames(prefix);
    await createVotingTopics(driver, prefix, PARTITIONS);
    await produce(driver, [
      { topic: topics.elections, key: Buffer.from('e0'), value: Buffer.from('{not json') },
      // The format from before versions: no version, a status.
      { topic: topics.elections, key: Buffer.from('e1'), value: json({ ...e1, version: undefined, effectiveAt: undefined, status: 'open' }) },
      electionRecord(e1, prefix),
    ]);

    const dedup = await startDedupApp(brokers, prefix, `${prefix}dedup`);
    const skipped = async () => (await dedup.app.registry.getSingleMetric('votestream_global_records_skipped_total')!.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(await skipped()).toEqual([['undecodable', 2]]);

    // While following, one produce request (one fetched batch): a bad record, then version 2 adding c3.
    const v2: Election = { ...e1, version: 2, effectiveAt: Date.now(), candidates: [...e1.candidates, { id: 'c3', name: 'Cy' }] };
    await produce(driver, [
      { topic: topics.elections, key: Buffer.from('e1'), value: Buffer.from('[]') },
      { topic: topics.elections, key: Buffer.from('e1'), value: json({ ...v2, version: 1, title: 'conflicting version 1' }) },
      electionRecord(v2, prefix),
    ]);
    // Stamped after version 2 was acknowledged: judged against it once the table is complete up to ts.
    const late = vote(4, 'u4', { candidateId: 'c3', ts: Date.now() });
    await produce(driver, [
      { topic: topics.votes, key: Buffer.from('u2'), value: json(vote(2, 'u2', { candidateId: 'c3', ts: v2.effectiveAt - 1 })) },
      { topic: topics.votes, key: Buffer.from('u4'), value: json(late) },
    ]);
    await dedup.drainAndClose(driver);

    expect((await readTopic(driver, topics.votesAccepted)).map((r) => (JSON.parse(r.value!.toString()) as Vote).voteId)).toEqual([late.voteId]);
    expect((await readTopic(driver, topics.votesRejected)).map((r) => JSON.parse(r.value!.toString()) as { voterId: string; reason: string }).map((v) => [v.voterId, v.reason])).toEqual([
      ['u2', 'unknown-candidate'],
    ]);
    expect((await skipped()).sort()).toEqual([
      ['rejected', 1],
      ['undecodable', 3],
    ]);
  });
});
