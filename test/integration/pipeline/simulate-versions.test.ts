import { describe, expect, it } from 'vitest';
import { decodeElection } from '../../../voting/election.js';
import { simulateVoters } from '../../../voting/simulator.js';
import { topicNames } from '../../../voting/topics.js';
import { sampleElections } from '../../../voting/vote-generator.js';
import { createVotingTopics, readTopic, startDedupApp } from '../../support/dedup-app.js';
import { testDriver } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

describe('votestream simulate and election versions', () => {
  it('publishes version 1 of each sample election; a second run republishes it identically and the workers ignore the repeat (fault 8)', async () => {
    const { brokers } = services();
    const driver = testDriver(brokers);
    const prefix = uniquePrefix('sim-v');
    const topics = topicNames(prefix);
    await createVotingTopics(driver, prefix, 2);
    for (let run = 0; run < 2; run++) expect(await simulateVoters({ driver, prefix, rate: 5000, votes: 40, duplicateRatio: 0 })).toBe(40);

    const published = (await readTopic(driver, topics.elections)).map((r) => [r.key!.toString(), decodeElection(r.value)]);
    const expected = sampleElections(3).map((e) => [e.electionId, { ok: true, election: e }]);
    expect(published).toEqual([...expected, ...expected]);

    const dedup = await startDedupApp(brokers, prefix, `${prefix}dedup`);
    const skipped = (await dedup.app.registry.getSingleMetric('votestream_global_records_skipped_total')!.get()).values;
    await dedup.drainAndClose(driver);
    expect(skipped).toEqual([]);
    // Every vote was judged against a version (none unknown-election); the two runs used distinct voters.
    expect((await readTopic(driver, topics.votesAccepted)).length).toBe(80);
    expect(await readTopic(driver, topics.votesRejected)).toEqual([]);
  });
});
