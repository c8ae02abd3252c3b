/**
 * The one scenario harness of the integration tests. What the whole-pipeline tests share: a provisioned prefix (12 partitions, its own tables), votes
 * and elections produced as the gateway would, workers as child processes, and the exact checks of
 * DESIGN section 4's invariant: Redis, DynamoDB and `votes-accepted` all hold exactly the distinct
 * first votes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../sinks/redis-client.js';
import { expect } from 'vitest';
import { generateVotes, sampleElections } from '../../voting/vote-generator.js';
import { dynamoClient } from '../../infra/dynamo-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { decodeHead } from '../../sinks/chain-items.js';
import type { Election } from '../../voting/election.js';
import { chainPk, HEAD_SK, verifyChain } from '../../voting/hash-chain.js';
import { provisionVoting } from '../../voting/provision.js';
import { readChain } from '../../voting/rebuild-redis.js';
import { countsKey, offsetsKey, regionField, regionsKey, TOTAL_FIELD, watermarksKey } from '../../voting/redis-keys.js';
import { tableNames, topicNames, topicSpecs } from '../../voting/topics.js';
import { encodeJson, type AcceptedVote, type Vote } from '../../voting/vote.js';
import { votingGroupId } from '../../voting/count-offsets-reset.js';
import type { VotingRole } from '../../voting/topology.js';
import { produce, readAll, testDriver, waitForGroupAtEnd } from './kafka-io.js';
import { waitUntil } from './poll.js';
import { redisSnapshot } from './redis-snapshot.js';
import { services, uniquePrefix } from './services.js';
import { startWorker, stopWorker, type WorkerHandle } from './worker-process.js';

export const PARTITIONS = 12;

export interface Pipeline {
  readonly prefix: string;
  readonly brokers: string;
  readonly dynamodbEndpoint: string;
  readonly driver: KafkaDriver;
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly stateDir: string;
  /** A fresh state directory of its own under stateDir, for a worker that must not share LevelDB. */
  newStateDir(name: string): string;
  readonly elections: Election[];
  /** Workers started by runWorker; cleanup kills those still alive (a failed test leaves no orphans). */
  readonly workers: Set<WorkerHandle>;
  /** Kills leftover workers, deletes the tables, topics and state directory. */
  cleanup(): Promise<void>;
}

export async function setupPipeline(label: string, electionCount = 1): Promise<Pipeline> {
  const { brokers, dynamodbEndpoint } = services();
  const prefix = uniquePrefix(label);
  const driver = testDriver(brokers);
  const dynamodb = dynamoClient(dynamodbEndpoint);
  await provisionVoting({ brokers, dynamodb, prefix, partitions: PARTITIONS });
  // Election ids carry the prefix too: the Redis of tests a and b is shared with other runs.
  const elections = sampleElections(electionCount, { prefix: `${prefix}e` });
  await produce(
    driver,
    elections.map((e) => ({ topic: topicNames(prefix).elections, key: Buffer.from(e.electionId), value: Buffer.from(JSON.stringify(e)) })),
  );
  const stateDir = mkdtempSync(join(tmpdir(), `vs-${label}-`));
  const table = tableNames(prefix).votes;
  const workers = new Set<WorkerHandle>();
  return {
    prefix,
    brokers,
    dynamodbEndpoint,
    driver,
    dynamodb,
    table,
    stateDir,
    newStateDir(name: string) {
      const dir = join(stateDir, name);
      mkdirSync(dir);
      return dir;
    },
    elections,
    workers,
    async cleanup() {
      for (const w of workers) await stopWorker(w, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
      for (const t of Object.values(tableNames(prefix))) await dynamodb.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
      const admin = driver.createAdmin();
      await admin.deleteTopics(topicSpecs({ prefix }).map((s) => s.name)).catch(() => undefined);
      await admin.close();
      dynamodb.destroy();
    },
  };
}

/** The votes of one test and what each election must end with. */
export interface VoteSet {
  readonly votes: Vote[];
  /** `electionId:voterId` -> voteId of the first vote: exactly what must be counted. */
  readonly firstVoteIds: Map<string, string>;
}

export function makeVotes(p: Pipeline, count: number, seed: number, duplicateRatio = 0.15): VoteSet {
  // Distinct voter ids per seed, so several sets of one test never collide.
  const { votes, firstVoteIds } = generateVotes({ count, duplicateRatio, elections: p.elections, seed });
  const rename = (v: Vote): Vote => ({ ...v, voterId: `s${seed}${v.voterId}` });
  const renamed = votes.map(rename);
  const first = new Map([...firstVoteIds].map(([k, id]) => [k.replace(/:(u\d+)$/, `:s${seed}$1`), id]));
  return { votes: renamed, firstVoteIds: first };
}

export function mergeVoteSets(...sets: VoteSet[]): VoteSet {
  return { votes: sets.flatMap((s) => s.votes), firstVoteIds: new Map(sets.flatMap((s) => [...s.firstVoteIds])) };
}

export async function produceVotes(p: Pipeline, votes: readonly Vote[]): Promise<void> {
  await produce(
    p.driver,
    votes.map((v) => ({ topic: topicNames(p.prefix).votes, key: Buffer.from(v.voterId), value: encodeJson(v), timestamp: v.ts })),
  );
}

export interface Expected {
  readonly total: number;
  /** HGETALL shapes. */
  readonly counts: Record<string, string>;
  readonly regions: Record<string, string>;
  readonly voteIds: Set<string>;
}

/** What election `electionId` must end with: the first vote of each of its voters, counted once. */
export function expectedFor(set: VoteSet, electionId: string): Expected {
  const first = new Set([...set.firstVoteIds].filter(([k]) => k.startsWith(`${electionId}:`)).map(([, id]) => id));
  const counts = new Map<string, number>();
  const regions = new Map<string, number>();
  for (const v of set.votes) {
    if (v.electionId !== electionId || !first.has(v.voteId)) continue;
    counts.set(v.candidateId, (counts.get(v.candidateId) ?? 0) + 1);
    if (v.region !== undefined) regions.set(regionField(v.region, v.candidateId), (regions.get(regionField(v.region, v.candidateId)) ?? 0) + 1);
  }
  const str = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, n]) => [k, String(n)]));
  return { total: first.size, counts: { ...str(counts), [TOTAL_FIELD]: String(first.size) }, regions: str(regions), voteIds: first };
}

export interface WorkerOptions {
  readonly instanceId?: string;
  readonly roles?: readonly VotingRole[];
  /** The shared test Redis unless given (a test's own redis-server). */
  readonly redisUrl?: string;
  /** The pipeline's state directory unless given. */
  readonly stateDir?: string;
  readonly extraArgs?: readonly string[];
}

/** `votestream worker` as a child process; resolves once it logged that it started. */
export async function runWorker(p: Pipeline, o: WorkerOptions): Promise<WorkerHandle> {
  const w = startWorker({
    brokers: p.brokers,
    prefix: p.prefix,
    stateDir: o.stateDir ?? p.stateDir,
    instanceId: o.instanceId ?? 'w1',
    extraArgs: [...(o.roles !== undefined ? ['--roles', ...o.roles] : []), ...(o.extraArgs ?? [])],
    env: { REDIS_URL: o.redisUrl ?? services().redis, DYNAMODB_ENDPOINT: p.dynamodbEndpoint },
  });
  track(p, w);
  await untilStarted(w);
  return w;
}

/** Makes cleanup kill the worker if the test does not stop it, and checkDedup wait for its end. */
export function track(p: Pipeline, w: WorkerHandle): void {
  p.workers.add(w);
  void w.exited.then(() => p.workers.delete(w));
}

/** Resolves once the worker logged that it started; fails at once if it exits first. */
export async function untilStarted(w: WorkerHandle): Promise<void> {
  await Promise.race([
    w.waitForLog((l) => l.msg === 'worker started', 60_000),
    w.exited.then((code) => {
      throw new Error(`worker exited with ${code} before it started:\n${w.logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`);
    }),
  ]);
}

export async function killWorker(w: WorkerHandle): Promise<void> {
  await stopWorker(w, 'SIGKILL');
}

/** SIGTERM (finish the batch, commit, leave the groups); must exit 0. */
export async function stopWorkerCleanly(w: WorkerHandle): Promise<void> {
  const code = await stopWorker(w, 'SIGTERM');
  expect(code, `worker exit code; last lines:\n${w.logs.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`).toBe(0);
}

/** The Redis key prefix of the pipeline's deployment: its topic prefix (DESIGN section 3). */
export function redisKeyPrefix(p: Pipeline): string {
  return p.prefix;
}

/**
 * Polls `_total` until it is exactly `total`. Fails at the deadline, and at once when it passes
 * `total` (that is a vote counted twice).
 */
export async function waitForTotal(redis: RedisClient, electionId: string, total: number, timeoutMs = 90_000, keyPrefix = ''): Promise<void> {
  let seen = 0;
  await waitUntil(
    async () => {
      seen = Number((await redis.hget(keyPrefix + countsKey(electionId), TOTAL_FIELD).catch(() => null)) ?? 0);
      if (seen > total) throw new Error(`Redis _total of ${electionId} is ${seen}, more than the ${total} distinct voters`);
      return seen === total;
    },
    () => `Redis _total of ${electionId} to reach ${total} (at ${seen})`,
    { timeoutMs, intervalMs: 200 },
  );
}

/** The chains' head items (consistent reads), partition -> head; chains without a head are absent. */
async function heads(p: Pipeline, electionId: string): Promise<Map<number, ReturnType<typeof decodeHead>>> {
  const out = new Map<number, ReturnType<typeof decodeHead>>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const r = await p.dynamodb.send(
      new GetItemCommand({ TableName: p.table, Key: { pk: { S: chainPk(electionId, partition) }, sk: { S: HEAD_SK } }, ConsistentRead: true }),
    );
    if (r.Item !== undefined) out.set(partition, decodeHead(r.Item));
  }
  return out;
}

/** Votes in the election's chains, by their heads. */
export async function chainTotal(p: Pipeline, electionId: string): Promise<number> {
  return [...(await heads(p, electionId)).values()].reduce((n, h) => n + h.lastSeq, 0);
}

/** Polls the chain heads until they hold `total` votes in all (fails when they hold more). */
export async function waitForChains(p: Pipeline, electionId: string, total: number, timeoutMs = 90_000): Promise<void> {
  let seen = 0;
  await waitUntil(
    async () => {
      seen = await chainTotal(p, electionId);
      if (seen > total) throw new Error(`DynamoDB chains of ${electionId} hold ${seen} votes, more than the ${total} distinct voters`);
      return seen === total;
    },
    () => `DynamoDB chains of ${electionId} to hold ${total} votes (at ${seen})`,
    { timeoutMs, intervalMs: 300 },
  );
}

/**
 * Every chain of the election: hashes recompute, seq runs 1..lastSeq without a gap and ends at the
 * head, nothing lies beyond the head, and the votes are exactly the expected first votes. Returns
 * the fences (partition -> head lastOffset), as strings like Redis keeps them.
 */
export async function checkChains(p: Pipeline, electionId: string, expected: Expected): Promise<Record<string, string>> {
  const voteIds: string[] = [];
  const fences: Record<string, string> = {};
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const { head, votes } = await readChain(p.dynamodb, p.table, electionId, partition);
    if (head === undefined) {
      expect(votes, `chain ${electionId}/${partition} has votes but no head`).toEqual([]);
      continue;
    }
    const verdict = verifyChain(votes, head);
    expect(verdict, `chain ${electionId}/${partition}`).toEqual({ ok: true, count: head.lastSeq, lastSeq: head.lastSeq, lastHash: head.lastHash });
    expect(votes.length, `chain ${electionId}/${partition}: items beyond the head`).toBe(head.lastSeq);
    // A chain's offsets strictly grow: no vote was appended twice.
    for (let i = 1; i < votes.length; i++) expect(votes[i].offset).toBeGreaterThan(votes[i - 1].offset);
    expect(head.lastOffset).toBe(votes[votes.length - 1].offset);
    fences[String(partition)] = String(head.lastOffset);
    voteIds.push(...votes.map((v) => v.voteId));
  }
  expect(voteIds.length, `votes in the chains of ${electionId}`).toBe(expected.total);
  expect(new Set(voteIds)).toEqual(expected.voteIds);
  return fences;
}

/** Redis counts and regions exactly as expected; returns the fences hash. */
export async function checkRedis(redis: RedisClient, electionId: string, expected: Expected, keyPrefix = ''): Promise<Record<string, string>> {
  const now = await redisSnapshot(redis, electionId, keyPrefix);
  expect(now.counts, `Redis counts of ${electionId}`).toEqual(expected.counts);
  expect(now.regions, `Redis regions of ${electionId}`).toEqual(expected.regions);
  return now.offsets;
}

/** The full invariant for every election of the pipeline, after the workers have stopped. */
export async function checkEverything(p: Pipeline, redis: RedisClient, set: VoteSet): Promise<void> {
  for (const e of p.elections) {
    const expected = expectedFor(set, e.electionId);
    const redisFences = await checkRedis(redis, e.electionId, expected, redisKeyPrefix(p));
    const chainFences = await checkChains(p, e.electionId, expected);
    // Both sinks consumed the same records: their fences agree partition by partition.
    expect(redisFences).toEqual(chainFences);
  }
  await checkDedup(p, set);
}

export async function deleteElectionKeys(redis: Redis, p: Pipeline): Promise<void> {
  const keys = [
    ...p.elections.flatMap((e) => [countsKey(e.electionId), regionsKey(e.electionId), offsetsKey(e.electionId)].map((k) => redisKeyPrefix(p) + k)),
    watermarksKey(redisKeyPrefix(p)),
  ];
  if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
}

/**
 * DESIGN section 4's invariant on the Kafka side: `votes-accepted` (read_committed) holds exactly
 * the first vote of every (election, voter) of `set`, each once and with `source` on its own
 * partition; every other vote is on `votes-rejected` as a duplicate, each once. Read it only once
 * nothing can still write (see waitForGroupCaughtUp), or a late duplicate could slip past.
 */
export async function checkDedup(p: Pipeline, set: VoteSet): Promise<void> {
  expect(p.workers.size, 'workers still running while the outputs are checked').toBe(0);
  const topics = topicNames(p.prefix);
  const acceptedIds = new Set(set.firstVoteIds.values());
  const expectedRejected = set.votes.filter((v) => !acceptedIds.has(v.voteId)).map((v) => v.voteId).sort();
  const accepted = await readAll(p.driver, topics.votesAccepted, set.firstVoteIds.size, 240_000);
  const rejected = await readAll(p.driver, topics.votesRejected, expectedRejected.length, 240_000);
  const acceptedValues = accepted.map((r) => JSON.parse(r.value!.toString()) as AcceptedVote);
  expect(acceptedValues.length, 'records on votes-accepted').toBe(set.firstVoteIds.size);
  expect(new Map(acceptedValues.map((v) => [`${v.electionId}:${v.voterId}`, v.voteId]))).toEqual(set.firstVoteIds);
  const misplaced = acceptedValues.filter((v, i) => v.source.partition !== accepted[i].partition);
  expect(misplaced, 'accepted votes whose source is another partition').toEqual([]);
  const rejectedValues = rejected.map((r) => JSON.parse(r.value!.toString()) as Vote & { reason: string });
  expect(rejectedValues.length, 'records on votes-rejected').toBe(expectedRejected.length);
  expect(new Set(rejectedValues.map((v) => v.reason))).toEqual(new Set(expectedRejected.length > 0 ? ['duplicate'] : []));
  expect(rejectedValues.map((v) => v.voteId).sort()).toEqual(expectedRejected);
}

/** Sum of the read_committed end offsets of a topic: a cheap progress gauge while workers run. */
export async function committedRecords(p: Pipeline, topic: string): Promise<number> {
  const admin = p.driver.createAdmin();
  try {
    const ends = await admin.endOffsets([topic], 'read_committed');
    return ends.reduce((n, e) => n + Number(e.offset), 0);
  } finally {
    await admin.close();
  }
}

/**
 * Waits until the dedup group's committed offsets on `votes` equal that topic's end on every
 * partition. The group commits its offsets in the transaction of its outputs, so from then on
 * `votes-accepted` and `votes-rejected` are complete for everything produced so far; reading them
 * earlier would let a duplicate written later slip past the check.
 */
export async function waitForDedupCaughtUp(p: Pipeline, timeoutMs = 240_000): Promise<void> {
  await waitForGroupAtEnd(p.driver, votingGroupId(p.prefix, 'dedup'), topicNames(p.prefix).votes, timeoutMs);
}

/** A sink group's committed offsets on `votes-accepted`, partition -> next offset to read. */
export async function sinkGroupOffsets(p: Pipeline, role: Exclude<VotingRole, 'dedup'>): Promise<Map<number, bigint>> {
  const admin = p.driver.createAdmin();
  try {
    const topic = topicNames(p.prefix).votesAccepted;
    return new Map((await admin.committedOffsets(votingGroupId(p.prefix, role), [topic])).map((c) => [c.partition, c.offset]));
  } finally {
    await admin.close();
  }
}
