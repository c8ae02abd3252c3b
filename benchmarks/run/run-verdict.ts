/**
 * Did the run count exactly what it sent? The expected counts are the distinct first valid votes
 * the generators had acknowledged (benchmarks/run/vote-plan.ts). Checked against:
 * - Redis: every election's candidate counts, region counts and `_total`, exactly;
 * - DynamoDB: the vote chains' lengths per election (the heads' lastSeq), once the persist path has
 *   drained, waiting up to a bound; still behind at the bound, the check is reported inconclusive
 *   (a note), and fails only on a count above the expected one;
 * - Kafka: `votes-accepted` holds one record per expected vote, `votes-rejected` the rest.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RedisClient } from '../../sinks/redis-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { readHead } from '../../voting/audit/chain-scan.js';
import { readRedisCounts } from '../../voting/audit/read-redis.js';
import { TOTAL_FIELD } from '../../voting/redis-keys.js';
import { tableNames, topicNames } from '../../voting/topics.js';
import { readTopic } from '../output-check.js';
import type { Verdict } from './run-report.js';

export interface ExpectedElection {
  readonly total: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly regions: Readonly<Record<string, number>>;
}

export interface VerdictInput {
  readonly driver: KafkaDriver;
  readonly redis: RedisClient;
  readonly dynamodb: DynamoDBClient;
  readonly prefix: string;
  readonly partitions: number;
  readonly expected: ReadonlyMap<string, ExpectedElection>;
  /** Votes the generators had acknowledged (first votes and duplicates). */
  readonly acknowledged: number;
  readonly dynamodbDrainBoundMs: number;
  /** When the load ended (epoch ms), for the drain time. */
  readonly loadEndedAt: number;
}

function differences(what: string, actual: Readonly<Record<string, number>>, expected: Readonly<Record<string, number>>): string[] {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  const out: string[] = [];
  for (const k of [...keys].sort()) {
    if ((actual[k] ?? 0) !== (expected[k] ?? 0)) out.push(`${what} ${k}: ${actual[k] ?? 0}, expected ${expected[k] ?? 0}`);
  }
  return out;
}

async function dynamodbTotal(o: VerdictInput, electionId: string): Promise<number> {
  const table = tableNames(o.prefix).votes;
  let total = 0;
  for (let p = 0; p < o.partitions; p++) total += (await readHead(o.dynamodb, table, electionId, p))?.lastSeq ?? 0;
  return total;
}

export async function judgeRun(o: VerdictInput): Promise<Verdict> {
  const problems: string[] = [];
  const expectedTotal = [...o.expected.values()].reduce((n, e) => n + e.total, 0);

  let redisTotal = 0;
  for (const [electionId, want] of o.expected) {
    const got = await readRedisCounts(o.redis, electionId, o.prefix);
    const counts = { ...got.counts };
    const total = counts[TOTAL_FIELD] ?? 0;
    delete counts[TOTAL_FIELD];
    redisTotal += total;
    if (total !== want.total) problems.push(`Redis ${electionId} _total: ${total}, expected ${want.total}`);
    problems.push(...differences(`Redis ${electionId} candidate`, counts, want.counts), ...differences(`Redis ${electionId} region:candidate`, got.regions, want.regions));
  }
  const redisExact = problems.length === 0;

  // The persist path may trail the count path: wait for it, up to the bound.
  const deadline = o.loadEndedAt + o.dynamodbDrainBoundMs;
  let dynamodbTotalNow = 0;
  let drainedAt: number | undefined;
  for (;;) {
    dynamodbTotalNow = 0;
    for (const electionId of o.expected.keys()) dynamodbTotalNow += await dynamodbTotal(o, electionId);
    if (dynamodbTotalNow >= expectedTotal) {
      drainedAt = Date.now();
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Not drained by the bound: the persist path is slower than the load (DynamoDB Local is, on a
  // small machine), which is a figure, not a wrong count; only a count above the expected one is.
  const perElection: string[] = [];
  const notes: string[] = [];
  for (const [electionId, want] of o.expected) {
    const got = await dynamodbTotal(o, electionId);
    if (drainedAt !== undefined ? got !== want.total : got > want.total) perElection.push(`DynamoDB ${electionId} chain lengths: ${got}, expected ${want.total}`);
    else if (drainedAt === undefined) notes.push(`DynamoDB ${electionId}: ${got} of ${want.total} votes persisted when the ${o.dynamodbDrainBoundMs} ms bound passed (not drained: inconclusive)`);
  }
  problems.push(...perElection);

  const topics = topicNames(o.prefix);
  const acceptedRecords = await readTopic(o.driver, topics.votesAccepted, o.partitions, () => undefined);
  const rejectedRecords = await readTopic(o.driver, topics.votesRejected, o.partitions, () => undefined);
  if (acceptedRecords !== expectedTotal) problems.push(`votes-accepted holds ${acceptedRecords} records, expected ${expectedTotal}`);
  if (rejectedRecords !== o.acknowledged - expectedTotal) problems.push(`votes-rejected holds ${rejectedRecords} records, expected ${o.acknowledged - expectedTotal} (the duplicates)`);

  return {
    passed: problems.length === 0,
    expectedTotal,
    redisTotal,
    redisExact,
    dynamodbTotal: dynamodbTotalNow,
    dynamodbDrained: drainedAt !== undefined,
    dynamodbExact: drainedAt !== undefined && perElection.length === 0,
    dynamodbDrainMs: (drainedAt ?? Date.now()) - o.loadEndedAt,
    dynamodbDrainBoundMs: o.dynamodbDrainBoundMs,
    acceptedRecords,
    rejectedRecords,
    problems,
    notes,
  };
}
