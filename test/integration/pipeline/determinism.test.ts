import { describe, expect, it } from 'vitest';
import type { Producer } from '../../../runtime/kafka/driver.js';
import { nextVersion, type Election } from '../../../voting/election.js';
import { effectiveInstant, electionRecord, publishElectionVersions } from '../../../voting/election-publisher.js';
import { topicNames } from '../../../voting/topics.js';
import { prng } from '../../../voting/vote-generator.js';
import type { Vote } from '../../../voting/vote.js';
import { copyTo, createVotingTopics, describeContent, describeRecord, laggingGlobalReader, readTopic, startDedupApp } from '../../support/dedup-app.js';
import { produce, testDriver } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import { services, uniquePrefix } from '../../support/services.js';

const PARTITIONS = 4;
const SEED = 20261202;

/**
 * Votes stamped with the current time, in small batches, until `stop()`: voters u0..u299 (so many
 * repeat), candidates c1..c3 (c3 exists only from version 2 on).
 */
function voteFlow(producer: Producer, topic: string) {
  const rand = prng(SEED);
  let n = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const batch = Array.from({ length: 20 }, (): Vote => {
        n++;
        const voterId = `u${Math.floor(rand() * 300)}`;
        return {
          voteId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
          electionId: 'e1',
          voterId,
          candidateId: `c${1 + Math.floor(rand() * 3)}`,
          ts: Date.now(),
        };
      });
      await producer.send(batch.map((v) => ({ topic, key: Buffer.from(v.voterId), value: Buffer.from(JSON.stringify(v)) })));
      // Pacing, not synchronisation: keeps votes spread over the versions' effective instants.
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    sent: () => n,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('determinism of the dedup path (DESIGN section 3, judging rule)', () => {
  it.each([
    ['an up-to-date elections table', 0],
    ['an elections table that lags 2.5 s behind the topic (longer than the publishing lead)', 2500],
  ])('judges the same votes and election versions identically live and in a replay from scratch, live with %s (fault 8)', async (_name, lagMs) => {
    const { brokers } = services();
    const driver = testDriver(brokers);
    const live = uniquePrefix('det-a');
    const replay = uniquePrefix('det-b');
    await createVotingTopics(driver, live, PARTITIONS);
    await createVotingTopics(driver, replay, PARTITIONS);
    const liveTopics = topicNames(live);
    const replayTopics = topicNames(replay);

    const start = Date.now();
    const v1: Election = {
      electionId: 'e1',
      version: 1,
      effectiveAt: start,
      title: 'Mayor',
      candidates: [
        { id: 'c1', name: 'Ana' },
        { id: 'c2', name: 'Bo' },
      ],
      regions: [],
      opensAt: start - 60_000,
      closesAt: start + 3_600_000,
    };
    await produce(driver, [electionRecord(v1, live)]);
    const first = await startDedupApp(brokers, live, `${live}run`, lagMs > 0 ? laggingGlobalReader(testDriver(brokers), lagMs) : undefined);

    // Versions published while votes flow, each effective from its publishing instant plus the lead.
    const producer = await driver.createProducer();
    const flow = voteFlow(producer, liveTopics.votes);
    let v2: Election;
    let v3: Election;
    try {
      await waitUntil(() => flow.sent() >= 200, 'the first votes');
      v2 = nextVersion(v1, { candidates: [...v1.candidates, { id: 'c3', name: 'Cy' }] }, effectiveInstant(Date.now(), v1));
      expect(await publishElectionVersions(producer, [v2], { prefix: live })).toBe(true);
      await waitUntil(() => Date.now() > v2.effectiveAt + 1000 + lagMs, 'votes under version 2', { timeoutMs: 15_000 });
      const closing = effectiveInstant(Date.now(), v2);
      v3 = nextVersion(v2, { closesAt: closing }, closing);
      expect(await publishElectionVersions(producer, [v3], { prefix: live })).toBe(true);
      await waitUntil(() => Date.now() > v3.effectiveAt + 1000, 'votes after the early close', { timeoutMs: 15_000 });
    } finally {
      await flow.stop();
      await producer.close();
    }
    await first.drainAndClose(driver);

    // The replay: the same records (partitions, offsets, keys, values, timestamps) under another
    // prefix, judged from scratch by another application id with every version already there.
    const votes = await readTopic(driver, liveTopics.votes);
    const elections = await readTopic(driver, liveTopics.elections);
    expect(elections.map((r) => JSON.parse(r.value!.toString()) as Election)).toEqual([v1, v2, v3]);
    await produce(driver, [...copyTo(elections, replayTopics.elections), ...copyTo(votes, replayTopics.votes)]);
    expect((await readTopic(driver, replayTopics.votes)).map(describeRecord)).toEqual(votes.map(describeRecord));
    const second = await startDedupApp(brokers, replay, `${replay}run`);
    await second.drainAndClose(driver);

    // Exact lists, per partition in output order; the `source` in accepted votes pins each to its input.
    const liveAccepted = (await readTopic(driver, liveTopics.votesAccepted)).map(describeContent);
    const liveRejected = (await readTopic(driver, liveTopics.votesRejected)).map(describeContent);
    expect((await readTopic(driver, replayTopics.votesAccepted)).map(describeContent)).toEqual(liveAccepted);
    expect((await readTopic(driver, replayTopics.votesRejected)).map(describeContent)).toEqual(liveRejected);

    // The run exercised every version: c3 refused before version 2 and counted after it, votes
    // refused after the early close, and duplicates.
    const outcomes = new Map<string, number>();
    const tally = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    for (const r of await readTopic(driver, liveTopics.votesAccepted)) tally(`accepted ${(JSON.parse(r.value!.toString()) as Vote).candidateId === 'c3' ? 'c3' : 'c1/c2'}`);
    for (const r of await readTopic(driver, liveTopics.votesRejected)) tally(`rejected ${(JSON.parse(r.value!.toString()) as { reason: string }).reason}`);
    expect([...outcomes.keys()].sort()).toEqual(['accepted c1/c2', 'accepted c3', 'rejected closed', 'rejected duplicate', 'rejected unknown-candidate']);
    expect(liveAccepted.length + liveRejected.length).toBe(votes.length);
  });
});
