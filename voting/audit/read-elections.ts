/**
 * The version history of one election as the workers judged with it: the `elections` topic read to
 * its end and folded with the workers' own merge (bad or conflicting records skipped, as the
 * workers skip them). The topic, not the `votestream-elections` table, because the judging rule is
 * defined over what the dedup path read; the two are equal when the admin publishes as it should.
 */
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { decodeElection, ElectionVersionError, mergeElectionVersion, type ElectionHistory } from '../election.js';
import { topicNames } from '../topics.js';
import { readTopicToEnd } from './read-topic.js';

export async function readElectionHistory(driver: KafkaDriver, prefix: string, electionId: string): Promise<ElectionHistory> {
  let history: ElectionHistory | undefined;
  await readTopicToEnd({
    driver,
    topic: topicNames(prefix).elections,
    clientId: 'votestream-audit-elections',
    onBatch: (records) => {
      for (const r of records) {
        if (r.key === null || r.key.toString('utf8') !== electionId) continue;
        const decoded = decodeElection(r.value);
        if (!decoded.ok) continue;
        try {
          history = mergeElectionVersion(history, decoded.election, electionId);
        } catch (err) {
          if (!(err instanceof ElectionVersionError)) throw err;
        }
      }
    },
  });
  return history ?? [];
}
