/**
 * `audit verify` votes/s against the raw DynamoDB Query ceiling, measured in the same run (issue 12):
 * an election of `--votes` distinct votes goes through the real pipeline (a `votestream worker`
 * process writes its chains), then, alternating, `rounds` times each: a plain paged Query of the same
 * chains with the same parallelism and nothing else (the ceiling), the chain scan alone (Query +
 * decode + hash verification), the read of `votes-accepted` alone, and the whole `verifyElection` (also `elections`, `votes-accepted`
 * and Redis). Medians are printed as JSON. Everything it made (topics, tables, Redis keys) is deleted.
 *
 *   npm run build && node dist/benchmarks/audit-verify-benchmark.js --votes 24000 --rounds 3
 *
 * The Kafka client is env KAFKA_DRIVER's (platformatic by default), for this process and its worker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeleteTableCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { dynamoClient } from '../infra/dynamo-client.js';
import { ConfigError } from '../runtime/errors.js';
import { createKafkaDriver, KAFKA_DRIVERS, type KafkaDriverName } from '../runtime/kafka/create-driver.js';
import { forEachBounded } from '../sinks/bounded-parallel.js';
import { readHead, scanChains } from '../voting/audit/chain-scan.js';
import { readAcceptedVotes } from '../voting/audit/read-accepted.js';
import { verifyElection, type AuditSources } from '../voting/audit/verify-chains.js';
import { chainPk } from '../voting/hash-chain.js';
import { provisionVoting } from '../voting/provision.js';
import { countsKey, offsetsKey, regionsKey, watermarksKey } from '../voting/redis-keys.js';
import { tableNames, topicNames, topicSpecs } from '../voting/topics.js';
import { generateVotes, sampleElections } from '../voting/vote-generator.js';
import { benchPrefix, produceRecords, voteRecords } from './bench-input.js';
import { BenchmarkError } from './errors.js';

const PARTITIONS = 12;
const CONCURRENCY = 4;

export interface AuditVerifyBenchmarkOptions {
  readonly votes: number;
  readonly rounds: number;
  readonly brokers: string;
  /** The Kafka client of the benchmark and of its worker; platformatic unless given. */
  readonly driver?: KafkaDriverName;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
}

/** Items of the election's chains read by plain paged Queries, `CONCURRENCY` chains at a time. */
async function rawQuery(dynamodb: DynamoDBClient, table: string, electionId: string): Promise<number> {
  let items = 0;
  await forEachBounded(
    Array.from({ length: PARTITIONS }, (_, p) => p),
    CONCURRENCY,
    async (partition) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: chainPk(electionId, partition) } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        items += page.Items?.length ?? 0;
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    },
  );
  return items;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runAuditVerifyBenchmark(o: AuditVerifyBenchmarkOptions) {
  const prefix = benchPrefix('audit');
  const driverName = o.driver ?? 'platformatic';
  const driver = createKafkaDriver(driverName, { brokers: o.brokers, clientId: 'votestream-bench-audit' });
  const dynamodb = dynamoClient(o.dynamodbEndpoint);
  const redis = new Redis(o.redis);
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-bench-audit-'));
  const [election] = sampleElections(1, { prefix: `${prefix}e` });
  const electionId = election.electionId;
  const table = tableNames(prefix).votes;
  try {
    await provisionVoting({ brokers: o.brokers, dynamodb, prefix, partitions: PARTITIONS });
    await produceRecords(driver, [{ topic: topicNames(prefix).elections, key: Buffer.from(electionId), value: Buffer.from(JSON.stringify(election)) }]);
    const { votes } = generateVotes({ count: o.votes, duplicateRatio: 0, elections: [election], seed: 7 });
    await produceRecords(driver, voteRecords(topicNames(prefix).votes, votes));
    const worker = spawn(process.execPath, ['dist/cli/main.js', 'worker', '--state-dir', stateDir, '--metrics-port', '0', '--instance-id', 'bench-audit'], {
      env: { ...process.env, KAFKA_BROKERS: o.brokers, KAFKA_DRIVER: driverName, REDIS_URL: o.redis, DYNAMODB_ENDPOINT: o.dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 30 * 60_000;
      let held = 0;
      while (held < o.votes) {
        if (Date.now() > deadline) throw new BenchmarkError('BENCHMARK_TIMEOUT', `the chains hold ${held} of ${o.votes} votes after 30 minutes`);
        if (worker.exitCode !== null) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `the worker exited with ${worker.exitCode}`);
        await new Promise((r) => setTimeout(r, 1000));
        // Heads only: polling whole chains would compete with the persist path being waited for.
        const heads = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readHead(dynamodb, table, electionId, p).catch(() => undefined)));
        held = heads.reduce((n, h) => n + (h?.lastSeq ?? 0), 0);
      }
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    const sources: AuditSources = { dynamodb, driver, redis, prefix, partitions: PARTITIONS, concurrency: CONCURRENCY };
    const rounds: { raw: number; scan: number; accepted: number; verify: number }[] = [];
    for (let i = 0; i < o.rounds; i++) {
      const [items, rawS] = await timed(() => rawQuery(dynamodb, table, electionId));
      const [chains, scanS] = await timed(() => scanChains({ dynamodb, table, electionId, partitions: PARTITIONS, concurrency: CONCURRENCY }));
      const [, acceptedS] = await timed(() => readAcceptedVotes(driver, prefix, electionId));
      const [report, verifyS] = await timed(() => verifyElection(sources, electionId));
      const scanned = chains.reduce((n, c) => n + c.votes.length, 0);
      // Heads are items too: the ceiling counts vote items only, as verify does.
      const heads = chains.filter((c) => c.head !== undefined).length;
      if (items - heads !== o.votes || scanned !== o.votes || !report.ok || report.votes !== o.votes) {
        throw new BenchmarkError('BENCHMARK_OUTPUT', `round ${i}: raw ${items - heads}, scanned ${scanned}, verified ${report.votes} (ok ${report.ok}, ${report.findings.length} findings) of ${o.votes}`);
      }
      rounds.push({ raw: o.votes / rawS, scan: o.votes / scanS, accepted: o.votes / acceptedS, verify: o.votes / verifyS });
    }
    const raw = median(rounds.map((r) => r.raw));
    const scan = median(rounds.map((r) => r.scan));
    const verify = median(rounds.map((r) => r.verify));
    return {
      votes: o.votes,
      partitions: PARTITIONS,
      concurrency: CONCURRENCY,
      rounds: rounds.map((r) => ({ raw: Math.round(r.raw), scan: Math.round(r.scan), accepted: Math.round(r.accepted), verify: Math.round(r.verify) })),
      median: {
        rawQueryVotesPerS: Math.round(raw),
        chainScanVotesPerS: Math.round(scan),
        votesAcceptedReadVotesPerS: Math.round(median(rounds.map((r) => r.accepted))),
        verifyVotesPerS: Math.round(verify),
      },
      verifyOfCeiling: Number((verify / raw).toFixed(2)),
      chainScanOfCeiling: Number((scan / raw).toFixed(2)),
    };
  } finally {
    for (const t of Object.values(tableNames(prefix))) await dynamodb.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
    const admin = driver.createAdmin();
    await admin.deleteTopics(topicSpecs({ prefix }).map((s) => s.name)).catch(() => undefined);
    await admin.close();
    await redis.del(countsKey(electionId, prefix), regionsKey(electionId, prefix), offsetsKey(electionId, prefix), watermarksKey(prefix)).catch(() => undefined);
    await redis.quit();
    dynamodb.destroy();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(process.argv[i + 1]);
  };
  const driver = process.env.KAFKA_DRIVER || 'platformatic';
  const isDriver = (name: string): name is KafkaDriverName => (KAFKA_DRIVERS as readonly string[]).includes(name);
  if (!isDriver(driver)) throw new ConfigError(`KAFKA_DRIVER must be one of ${KAFKA_DRIVERS.join(', ')}, got ${JSON.stringify(driver)}`);
  const result = await runAuditVerifyBenchmark({
    votes: arg('votes', 24_000),
    rounds: arg('rounds', 3),
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    driver,
    redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:16379',
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:18000',
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
