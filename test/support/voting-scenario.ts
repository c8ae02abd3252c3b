import { expect } from 'vitest';
import { generateVotes, sampleElections, type GeneratedVotes } from '../../voting/vote-generator.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { encodeElection } from '../../voting/election.js';
import { provisionVoting } from '../../voting/provision.js';
import { topicNames, type TopicNames } from '../../voting/topics.js';
import type { Vote } from '../../voting/vote.js';
import { produce, readAll } from './kafka-io.js';
import { uniquePrefix } from './services.js';

export interface VotingScenario {
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly generated: GeneratedVotes;
  /** Produces votes [from, to) of the generated list to `votes` (key = voterId). */
  produceVotes(from?: number, to?: number): Promise<void>;
}

/** Fresh topics (12 partitions) and tables under a unique prefix, the elections, and a vote list. */
export async function votingScenario(
  driver: KafkaDriver,
  services: { brokers: string; dynamodbEndpoint: string },
  options: { votes: number; duplicateRatio: number; elections?: number; seed?: number },
): Promise<VotingScenario> {
  const prefix = uniquePrefix('vote');
  const dynamodb = dynamoClient(services.dynamodbEndpoint);
  try {
    await provisionVoting({ brokers: services.brokers, dynamodb, prefix, partitions: 12 });
  } finally {
    dynamodb.destroy();
  }
  const topics = topicNames(prefix);
  const elections = sampleElections(options.elections ?? 3);
  await produce(
    driver,
    elections.map((e) => ({ topic: topics.elections, key: Buffer.from(e.electionId), value: encodeElection(e) })),
  );
  const generated = generateVotes({ count: options.votes, duplicateRatio: options.duplicateRatio, elections, seed: options.seed ?? 7 });
  return {
    prefix,
    topics,
    generated,
    produceVotes: (from = 0, to = generated.votes.length) =>
      produce(
        driver,
        generated.votes.slice(from, to).map((v: Vote) => ({ topic: topics.votes, key: Buffer.from(v.voterId), value: Buffer.from(JSON.stringify(v)) })),
      ),
  };
}

/**
 * The invariant of DESIGN section 4 on the Kafka side: `votes-accepted` (read_committed) holds
 * exactly the first vote of every (election, voter) among `votes` [0, upTo), each once; every other
 * vote is on `votes-rejected` as a duplicate, each once.
 */
export async function expectExactDedup(driver: KafkaDriver, s: VotingScenario, upTo = s.generated.votes.length): Promise<void> {
  const votes = s.generated.votes.slice(0, upTo);
  const first = new Map<string, string>();
  for (const v of votes) if (!first.has(`${v.electionId}:${v.voterId}`)) first.set(`${v.electionId}:${v.voterId}`, v.voteId);
  const acceptedIds = new Set(first.values());
  const expectedRejected = votes.filter((v) => !acceptedIds.has(v.voteId)).map((v) => v.voteId).sort();

  const accepted = await readAll(driver, s.topics.votesAccepted, first.size, 240_000);
  const rejected = await readAll(driver, s.topics.votesRejected, expectedRejected.length, 240_000);
  const acceptedValues = accepted.map((r) => JSON.parse(r.value!.toString()) as Vote & { source: { partition: number; offset: number } });
  expect(acceptedValues.length).toBe(first.size);
  const seen = new Map<string, string>();
  for (const v of acceptedValues) seen.set(`${v.electionId}:${v.voterId}`, v.voteId);
  expect(seen.size).toBe(first.size);
  expect(seen).toEqual(first);
  // `source` points at the vote's own record: same partition as its key's record in votes-accepted.
  expect(acceptedValues.every((v, i) => v.source.partition === accepted[i].partition)).toBe(true);

  const rejectedValues = rejected.map((r) => JSON.parse(r.value!.toString()) as Vote & { reason: string });
  expect(rejectedValues.length).toBe(expectedRejected.length);
  expect(new Set(rejectedValues.map((v) => v.reason))).toEqual(new Set(expectedRejected.length > 0 ? ['duplicate'] : []));
  expect(rejectedValues.map((v) => v.voteId).sort()).toEqual(expectedRejected);
}

/** Sum of the read_committed end offsets of a topic: a cheap progress gauge while workers run. */
export async function committedRecords(driver: KafkaDriver, topic: string): Promise<number> {
  const admin = driver.createAdmin();
  try {
    const ends = await admin.endOffsets([topic], 'read_committed');
    return ends.reduce((n, e) => n + Number(e.offset), 0);
  } finally {
    await admin.close();
  }
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
