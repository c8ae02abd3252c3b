/**
 * Sink throughput (issue 5): votes/s through VoteCountSink and DynamoVoteSink alone, and the raw
 * BatchWriteItem ceiling of the same DynamoDB for items of the vote shape, in the same run, so the
 * fenced sink can be read as a fraction of what the database can take at all.
 *
 * The sinks run as the runtime runs them: one instance per partition (one task each), all
 * partitions concurrently, each writing its batches in order. Input is generated in memory up front
 * and not timed. Everything written goes to keys and a table unique to the run, removed at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { dynamoClient } from '../infra/dynamo-client.js';
import { EMPTY_CHAIN, type Item } from '../sinks/chain-items.js';
import { buildLinks, voteItem } from '../voting/vote-chain.js';
import { batchWriteItems } from '../sinks/dynamo-batch-writer.js';
import { DynamoVoteSink } from '../voting/vote-log-sink.js';
import { VoteCountSink } from '../voting/count-sink.js';
import type { SinkRecord } from '../sinks/sink.js';
import { ensureTable } from '../voting/provision.js';
import { countsKey, offsetsKey, regionsKey } from '../voting/redis-keys.js';
import type { AcceptedVote } from '../voting/vote.js';
import { BenchmarkError } from './errors.js';
import { machineInfo, type BenchmarkResult } from './result.js';

export interface SinksBenchmarkOptions {
  readonly redisUrl: string;
  readonly dynamodbEndpoint: string;
  /** Default 200,000. */
  readonly redisVotes?: number;
  /** Default 3,000 (DynamoDB Local is slow). */
  readonly dynamoVotes?: number;
  readonly partitions?: number;
  readonly elections?: number;
  /** Records per sink write. Default 500. */
  readonly batchSize?: number;
  /** Chains one DynamoVoteSink writes in parallel. Default 8. */
  readonly dynamoConcurrency?: number;
  /** BatchWriteItem requests in flight for the ceiling. Default 12 (one per partition, like the sinks). */
  readonly rawConcurrency?: number;
  /** DynamoDB rounds (raw, then sink); the best of each is reported. Default 3. */
  readonly rounds?: number;
  /** Shown in the result. */
  readonly command?: string;
  readonly log?: (line: string) => void;
}

export type SinksBenchmarkFigures = {
  'redis sink votes/s': number;
  'dynamodb sink votes/s': number;
  'dynamodb raw BatchWriteItem items/s': number;
  'dynamodb sink / raw ceiling': number;
};

export type SinksBenchmarkResult = BenchmarkResult<SinksBenchmarkFigures>;

type VoteRecord = SinkRecord<string, AcceptedVote>;

/** `count` votes spread round-robin-randomly over partitions and elections; result[p] in offset order. */
function generate(count: number, partitions: number, elections: readonly string[]): VoteRecord[][] {
  const out: VoteRecord[][] = Array.from({ length: partitions }, () => []);
  const regions = ['SP', 'RJ', 'MG', 'BA'];
  for (let i = 0; i < count; i++) {
    const p = i % partitions;
    const offset = out[p].length;
    const value: AcceptedVote = {
      voteId: randomUUID(),
      electionId: elections[(i * 7919) % elections.length],
      voterId: `u${i}`,
      candidateId: `c${(i * 31) % 5}`,
      region: regions[(i * 13) % regions.length],
      ts: 1763800000000 + i,
      source: { partition: p, offset },
    };
    out[p].push({ topic: 'votes-accepted', partition: p, offset, timestamp: value.ts, key: value.voterId, value, headers: {} });
  }
  return out;
}

function batches<T>(records: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
  return out;
}

/** Runs every partition's batches through its own sink, partitions concurrently; returns seconds. */
async function drive(perPartition: readonly VoteRecord[][], batchSize: number, make: (p: number) => { write(b: VoteRecord[]): Promise<void>; open(t: { taskId: string; partition: number }): Promise<unknown>; close(): Promise<void> }): Promise<number> {
  const sinks = perPartition.map((_, p) => make(p));
  await Promise.all(sinks.map((s, p) => s.open({ taskId: `bench-${p}`, partition: p })));
  const start = process.hrtime.bigint();
  await Promise.all(
    perPartition.map(async (records, p) => {
      for (const batch of batches(records, batchSize)) await sinks[p].write(batch);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(sinks.map((s) => s.close()));
  return seconds;
}

async function createTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await ensureTable(dynamodb, table, { sortKey: true });
}

/** The vote items the sink would write for these records (same shape, same sizes), chain by chain. */
function rawItems(perPartition: readonly VoteRecord[][], electionSuffix: string): Item[] {
  const items: Item[] = [];
  for (const records of perPartition) {
    const byElection = new Map<string, VoteRecord[]>();
    for (const r of records) {
      const list = byElection.get(r.value.electionId) ?? [];
      list.push(r);
      byElection.set(r.value.electionId, list);
    }
    for (const [electionId, list] of byElection) {
      const links = buildLinks(`${electionId}${electionSuffix}`, list[0].partition, EMPTY_CHAIN, list.map((r) => ({ offset: r.offset, vote: r.value })));
      items.push(...links.map(voteItem));
    }
  }
  return items;
}

const round = (n: number) => Math.round(n);

export async function runSinksBenchmark(opts: SinksBenchmarkOptions): Promise<SinksBenchmarkResult> {
  const log = opts.log ?? (() => undefined);
  const redisVotes = opts.redisVotes ?? 200_000;
  const dynamoVotes = opts.dynamoVotes ?? 3_000;
  const partitions = opts.partitions ?? 12;
  const electionCount = opts.elections ?? 3;
  const batchSize = opts.batchSize ?? 500;
  const dynamoConcurrency = opts.dynamoConcurrency ?? 8;
  const rawConcurrency = opts.rawConcurrency ?? 12;
  const rounds = opts.rounds ?? 3;
  const run = `bench${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const elections = Array.from({ length: electionCount }, (_, i) => `${run}-e${i + 1}`);

  // Redis.
  const redisInput = generate(redisVotes, partitions, elections);
  const redisSeconds = await drive(redisInput, batchSize, () => new VoteCountSink({ redis: opts.redisUrl }));
  const redis = new Redis(opts.redisUrl);
  try {
    const total = (await Promise.all(elections.map((e) => redis.hget(countsKey(e), '_total')))).reduce((n, t) => n + Number(t), 0);
    if (total !== redisVotes) throw new BenchmarkError('BENCHMARK_OUTPUT', `redis sink counted ${total} votes, expected ${redisVotes}`);
    await redis.del(...elections.flatMap((e) => [countsKey(e), regionsKey(e), offsetsKey(e)]));
  } finally {
    redis.disconnect();
  }
  const redisRate = redisVotes / redisSeconds;
  log(`redis: ${redisVotes} votes in ${redisSeconds.toFixed(2)} s = ${round(redisRate)} votes/s`);

  // DynamoDB: rounds of (raw ceiling, sink) on one table.
  const dynamodb = dynamoClient(opts.dynamodbEndpoint);
  const table = `${run}-votestream-votes`;
  await createTable(dynamodb, table);
  try {
    const dynamoInput = generate(dynamoVotes, partitions, elections);
    const rawRun = async (suffix: string) => {
      const items = rawItems(dynamoInput, suffix);
      const start = process.hrtime.bigint();
      await batchWriteItems(dynamodb, table, items, { concurrency: rawConcurrency });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      log(`dynamodb raw BatchWriteItem: ${items.length} items in ${seconds.toFixed(2)} s = ${round(items.length / seconds)} items/s`);
      return items.length / seconds;
    };
    // Warm DynamoDB Local's JVM up first: its first requests are several times slower.
    await batchWriteItems(dynamodb, table, rawItems(generate(600, partitions, elections), '-warm'), { concurrency: rawConcurrency });
    const rawRates: number[] = [];
    const sinkRates: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      rawRates.push(await rawRun(`-raw${round}`));
      // Each round's sink writes fresh chains (new election ids), so none of it is fenced.
      const input = round === 1 ? dynamoInput : generate(dynamoVotes, partitions, elections.map((e) => `${e}r${round}`));
      const registry = new Registry();
      const sinkSeconds = await drive(input, batchSize, () => new DynamoVoteSink({ dynamodb, tableName: table, concurrency: dynamoConcurrency, registry }));
      sinkRates.push(dynamoVotes / sinkSeconds);
      const retries = (await registry.getSingleMetric('votestream_sink_retries_total')?.get())?.values[0]?.value ?? 0;
      log(`dynamodb sink: ${dynamoVotes} votes in ${sinkSeconds.toFixed(2)} s = ${Math.round(dynamoVotes / sinkSeconds)} votes/s (${retries} retries)`);
    }
    // Best of the rounds on both sides: the machine is shared and noisy, and noise only slows runs down.
    const ceiling = Math.max(...rawRates);
    const sinkRate = Math.max(...sinkRates);
    return {
      benchmark: 'sinks',
      command: opts.command ?? 'runSinksBenchmark()',
      date: new Date().toISOString(),
      machine: machineInfo(),
      parameters: { redisVotes, dynamoVotes, partitions, elections: electionCount, batchSize, dynamoConcurrency, rawConcurrency, rounds },
      figures: {
        'redis sink votes/s': round(redisRate),
        'dynamodb sink votes/s': round(sinkRate),
        'dynamodb raw BatchWriteItem items/s': round(ceiling),
        'dynamodb sink / raw ceiling': Math.round((sinkRate / ceiling) * 100) / 100,
      },
    };
  } finally {
    await dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    dynamodb.destroy();
  }
}
