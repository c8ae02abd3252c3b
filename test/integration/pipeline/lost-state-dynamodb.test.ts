/**
 * Issue 8, fault 2 (DynamoDB), end to end. Before the fix a lost chain was started again at seq 1
 * from a later offset, and the audit could not see it because the new chain verified. Now:
 * - the table vanishing under load (DynamoDB Local restarted in memory) makes the persist path
 *   recreate it and replay `votes-accepted` from the beginning, by itself;
 * - `votestream rebuild dynamodb --election E | --all` rebuilds lost chains from `votes-accepted`.
 * Either way the chains end exactly as a recomputation from `votes-accepted` says: same hashes.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_CHAIN } from '../../../sinks/chain-items.js';
import { buildLinks, type ChainInput } from '../../../voting/vote-chain.js';
import { readChain } from '../../../voting/vote-chain.js';
import { topicNames } from '../../../voting/topics.js';
import { decodeAcceptedVote } from '../../../voting/vote.js';
import { cliEnv, runCli } from '../../support/cli.js';
import { readAll } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import {
  chainTotal,
  checkEverything,
  deleteElectionKeys,
  expectedFor,
  makeVotes,
  PARTITIONS,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForDedupCaughtUp,
  waitForTotal,
  type Pipeline,
  type VoteSet,
} from '../../support/scenario.js';
import { services } from '../../support/services.js';

/** `${electionId}/${partition}` -> hashes in seq order. */
type Hashes = Record<string, string[]>;

/** The chains as DESIGN section 3 defines them: a function of `votes-accepted` alone. */
async function chainsFromKafka(p: Pipeline, accepted: number): Promise<Hashes> {
  const records = await readAll(p.driver, topicNames(p.prefix).votesAccepted, accepted, 60_000);
  const inputs = new Map<string, ChainInput[]>();
  for (const r of records) {
    const decoded = decodeAcceptedVote(r.value);
    if (!decoded.ok) throw new Error(`undecodable accepted vote at ${r.partition}/${r.offset}`);
    const key = `${decoded.vote.electionId}/${r.partition}`;
    const list = inputs.get(key) ?? [];
    list.push({ offset: Number(r.offset), vote: decoded.vote });
    inputs.set(key, list);
  }
  const out: Hashes = {};
  for (const [key, list] of [...inputs].sort(([a], [b]) => a.localeCompare(b))) {
    const [electionId, partition] = [key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1))];
    list.sort((a, b) => a.offset - b.offset);
    out[key] = buildLinks(electionId, partition, EMPTY_CHAIN, list).map((l) => l.hash);
  }
  return out;
}

async function chainsInTable(p: Pipeline, electionIds: readonly string[]): Promise<Hashes> {
  const out: Hashes = {};
  for (const e of [...electionIds].sort()) {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const { votes } = await readChain(p.dynamodb, p.table, e, partition).catch((err: unknown) => {
        if (err instanceof Error && err.name === 'ResourceNotFoundException') return { votes: [] };
        throw err;
      });
      if (votes.length > 0) out[`${e}/${partition}`] = votes.map((v) => v.hash);
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function only(h: Hashes, electionId: string): Hashes {
  return Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith(`${electionId}/`)));
}

interface RebuildSummary {
  readonly tableCreated: boolean;
  readonly applied: number;
  readonly fenced: number;
  readonly undecodable: number;
}

describe('DynamoDB loses the vote table', () => {
  const pipelines: Pipeline[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    for (const p of pipelines.splice(0)) await p.cleanup();
  });

  async function pipeline(label: string, elections: number): Promise<{ p: Pipeline; redis: Redis }> {
    const p = await setupPipeline(label, elections);
    pipelines.push(p);
    const redis = new Redis(services().redis);
    clients.push(redis);
    return { p, redis };
  }

  async function cleanRedis(p: Pipeline, redis: Redis): Promise<void> {
    await deleteElectionKeys(redis, p);
    await redis.del(`${redisKeyPrefix(p)}vs:watermarks`);
  }

  it('deleted under load: the persist path recreates it and rebuilds the very same chains by itself', async () => {
    const { p, redis } = await pipeline('lsd', 1);
    const e = p.elections[0].electionId;
    const set = makeVotes(p, 6_000, 91);
    const expected = expectedFor(set, e).total;
    const worker = await runWorker(p, {});
    const half = Math.floor(set.votes.length / 2);
    await produceVotes(p, set.votes.slice(0, half));
    await waitUntil(async () => (await chainTotal(p, e)) > 0, 'the persist path to write some votes', { timeoutMs: 90_000, intervalMs: 50 });
    // What an in-memory DynamoDB Local restart does to the table.
    await p.dynamodb.send(new DeleteTableCommand({ TableName: p.table }));
    await produceVotes(p, set.votes.slice(half));
    await worker.waitForLog((l) => l.msg === 'dynamo vote sink: the table is gone; recreating it empty, the partition replays from its beginning', 90_000);
    await waitForDedupCaughtUp(p);
    await waitForTotal(redis, e, expected, 120_000, redisKeyPrefix(p));
    await waitForChains(p, e, expected, 180_000);
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, set);
    expect(await chainsInTable(p, [e])).toEqual(await chainsFromKafka(p, expected));
    await cleanRedis(p, redis);
  }, 400_000);

  it('`rebuild dynamodb --election E` then `--all` restore the lost chains with identical hashes', async () => {
    const { p, redis } = await pipeline('lsc', 2);
    const [e1, e2] = p.elections.map((e) => e.electionId);
    const set: VoteSet = makeVotes(p, 3_000, 92);
    const totals = [expectedFor(set, e1).total, expectedFor(set, e2).total];
    const worker = await runWorker(p, {});
    await produceVotes(p, set.votes);
    await waitForDedupCaughtUp(p);
    await waitForChains(p, e1, totals[0]);
    await waitForChains(p, e2, totals[1]);
    await stopWorkerCleanly(worker);
    const before = await chainsInTable(p, [e1, e2]);
    expect(before).toEqual(await chainsFromKafka(p, totals[0] + totals[1]));

    const env = cliEnv({ brokers: p.brokers, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });
    const rebuild = (...args: string[]): RebuildSummary => {
      const r = runCli(['rebuild', 'dynamodb', ...args, '--json'], env);
      expect(r.status, `rebuild dynamodb ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return JSON.parse(r.stdout) as RebuildSummary;
    };

    await p.dynamodb.send(new DeleteTableCommand({ TableName: p.table }));
    expect(rebuild('--election', e1)).toMatchObject({ tableCreated: true, applied: totals[0], fenced: 0, undecodable: 0 });
    expect(await chainsInTable(p, [e1, e2])).toEqual(only(before, e1));

    expect(rebuild('--all')).toMatchObject({ tableCreated: false, applied: totals[1], fenced: totals[0], undecodable: 0 });
    expect(await chainsInTable(p, [e1, e2])).toEqual(before);
    // Nothing left to write: a rebuild is safe to repeat.
    expect(rebuild('--all')).toMatchObject({ tableCreated: false, applied: 0, fenced: totals[0] + totals[1] });

    // The persist path resumes over the rebuilt table: its watermarks cover what --all read.
    const resumed = await runWorker(p, { instanceId: 'w2' });
    const more = makeVotes(p, 600, 93);
    await produceVotes(p, more.votes);
    const all: VoteSet = { votes: [...set.votes, ...more.votes], firstVoteIds: new Map([...set.firstVoteIds, ...more.firstVoteIds]) };
    await waitForDedupCaughtUp(p);
    await waitForChains(p, e1, expectedFor(all, e1).total);
    await waitForChains(p, e2, expectedFor(all, e2).total);
    await waitForTotal(redis, e1, expectedFor(all, e1).total, 90_000, redisKeyPrefix(p));
    await waitForTotal(redis, e2, expectedFor(all, e2).total, 90_000, redisKeyPrefix(p));
    await stopWorkerCleanly(resumed);
    await checkEverything(p, redis, all);
    expect(await chainsInTable(p, [e1, e2])).toEqual(await chainsFromKafka(p, expectedFor(all, e1).total + expectedFor(all, e2).total));
    await cleanRedis(p, redis);
  }, 400_000);

  it('`rebuild dynamodb` refuses bad arguments and an unreachable DynamoDB with a clear message and a non-zero exit', () => {
    const both = runCli(['rebuild', 'dynamodb', '--all', '--election', 'e1'], cliEnv({}));
    expect({ status: both.status, stderr: both.stderr.trim() }).toEqual({ status: 2, stderr: 'votestream: give exactly one of --election E and --all' });
    const down = runCli(['rebuild', 'dynamodb', '--all'], cliEnv({ brokers: services().brokers, dynamodbEndpoint: 'http://127.0.0.1:9' }));
    expect({ status: down.status, stderr: down.stderr.trim() }).toEqual({ status: 4, stderr: 'votestream: not answering: DynamoDB at http://127.0.0.1:9' });
  });
});
