import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { createLogger } from '../../../runtime/logger.js';
import { FinalRecountScheduler, type FinalRecountOptions } from '../../../voting/audit/final-recount-scheduler.js';
import { isFinalState } from '../../../voting/audit/final-recount-state.js';
import { readOfficial, type OfficialResult } from '../../../voting/audit/official-result.js';
import type { NoteSigner } from '../../../voting/audit/signed-note.js';
import { createSigningKeys, loadSigner } from '../../../voting/audit/signing-key.js';
import { nextVersion } from '../../../voting/election.js';
import { topicNames } from '../../../voting/topics.js';
import { produce } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import {
  checkRedis,
  expectedFor,
  makeVotes,
  mergeVoteSets,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForDedupCaughtUp,
  waitForTotal,
  type Expected,
  type Pipeline,
  type VoteSet,
} from '../../support/scenario.js';
import { services } from '../../support/services.js';

/**
 * Issue 12, the scheduled final recount (worker role `audit`): an election that closes a few
 * seconds into the test, votes before the close (counted) and after it (rejected `closed`), and
 * schedulers in this process that must publish the official result once, and only after the
 * persist path provably holds every vote of the close.
 */
describe('final recount scheduler', () => {
  let keyDir: string;
  let keyFile: string;
  let signer: NoteSigner;
  let redis: Redis;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), 'vs-final-recount-keys-'));
    keyFile = createSigningKeys(keyDir, 'final-recount-test').privateKeyFile;
    signer = loadSigner(keyFile);
    redis = new Redis(services().redis);
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  afterAll(async () => {
    await redis.quit();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** A scheduler of the pipeline's deployment, with its JSON log lines kept for the assertions. */
  function scheduler(p: Pipeline, name: string, overrides: Partial<FinalRecountOptions> = {}): { scheduler: FinalRecountScheduler; logs: Record<string, unknown>[] } {
    const logs: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const own = new Redis(services().redis);
    const s = new FinalRecountScheduler({
      driver: p.driver,
      dynamodb: p.dynamodb,
      table: p.table,
      redis: own,
      prefix: redisKeyPrefix(p),
      signer,
      deployment: 'final-recount-test',
      logger: createLogger({ level: 'info', name: name, destination }),
      closeGraceMs: 500,
      pollIntervalMs: 200,
      ...overrides,
    });
    s.start();
    cleanups.push(async () => {
      await s.close();
      own.disconnect();
    });
    return { scheduler: s, logs };
  }

  /** A pipeline whose election gets version 2: effective now, closing `inMs` from now. */
  async function closingElection(label: string, inMs: number): Promise<{ p: Pipeline; e: string; closesAt: number }> {
    const p = await setupPipeline(label, 1);
    cleanups.push(() => p.cleanup());
    const now = Date.now();
    const v2 = nextVersion(p.elections[0], { closesAt: now + inMs }, now);
    await produce(p.driver, [{ topic: topicNames(p.prefix).elections, key: Buffer.from(v2.electionId), value: Buffer.from(JSON.stringify(v2)) }]);
    return { p, e: v2.electionId, closesAt: v2.closesAt };
  }

  /**
   * Votes before the close (old ts, judged under version 1, and ts = now under version 2: all
   * counted), then, once the close has passed, votes of new voters with ts after it (all rejected
   * `closed`). Returns what must be official: the first votes of the counted sets.
   */
  async function voteAroundClose(p: Pipeline, closesAt: number, seed: number): Promise<Expected> {
    const early = makeVotes(p, 600, seed);
    const now = Date.now();
    const stamped = makeVotes(p, 200, seed + 1);
    const recent: VoteSet = { ...stamped, votes: stamped.votes.map((v) => ({ ...v, ts: now })) };
    expect(now, 'the recent votes must be stamped before the close').toBeLessThan(closesAt);
    // Apart: one produce batch spanning a year of timestamps does not keep each record's own.
    await produceVotes(p, early.votes);
    await produceVotes(p, recent.votes);
    await waitUntil(() => Date.now() > closesAt, 'the election to close', { timeoutMs: 30_000, intervalMs: 50 });
    const lateTs = Date.now();
    await produceVotes(p, makeVotes(p, 100, seed + 2).votes.map((v) => ({ ...v, ts: lateTs })));
    return expectedFor(mergeVoteSets(early, recent), p.elections[0].electionId);
  }

  /** The official result in the HGETALL shapes of Expected. */
  function asExpected(o: OfficialResult): { counts: Record<string, string>; regions: Record<string, string> } {
    const counts = Object.fromEntries(Object.entries(o.counts).map(([c, n]) => [c, String(n)]));
    const regions: Record<string, string> = {};
    for (const [region, byCandidate] of Object.entries(o.regions)) for (const [c, n] of Object.entries(byCandidate)) regions[`${region}:${c}`] = String(n);
    return { counts: { ...counts, _total: String(o.total) }, regions };
  }

  const finished = (s: FinalRecountScheduler, e: string) => {
    const state = s.status(e)?.state;
    return state !== undefined && isFinalState(state);
  };

  /** The official result of `e`: exactly the expected first votes, per candidate and per region. */
  async function expectOfficial(p: Pipeline, e: string, expected: Expected): Promise<OfficialResult> {
    const official = await readOfficial(p.dynamodb, p.table, e);
    expect(official, `the official result of ${e}`).toBeDefined();
    expect(official!.total).toBe(expected.total);
    expect(asExpected(official!)).toEqual({ counts: expected.counts, regions: expected.regions });
    return official!;
  }

  it('two schedulers: the official result is published exactly once, equal to the first valid votes up to the close and to the live counts', async () => {
    const { p, e, closesAt } = await closingElection('final-a', 5_000);
    const a = scheduler(p, 'scheduler-a');
    const b = scheduler(p, 'scheduler-b');
    const expected = await voteAroundClose(p, closesAt, 11);
    const worker = await runWorker(p, {});
    await waitUntil(() => finished(a.scheduler, e) && finished(b.scheduler, e), () => `both schedulers to finish (${a.scheduler.status(e)?.state}, ${b.scheduler.status(e)?.state})`, { timeoutMs: 120_000, intervalMs: 200 });

    const states = [a.scheduler.status(e)!.state, b.scheduler.status(e)!.state].sort();
    expect(states).toEqual(['already official', 'published']);
    const lines = [...a.logs, ...b.logs].filter((l) => l.electionId === e);
    const published = lines.filter((l) => l.msg === 'published');
    expect(published).toHaveLength(1);
    expect(published[0].outcome).toBe('published');
    expect(lines.filter((l) => l.msg === 'already official')).toHaveLength(1);
    // The proof went through both waits before the recount (the log of the instance that published).
    const winner = a.scheduler.status(e)!.state === 'published' ? a.logs : b.logs;
    expect(winner.filter((l) => l.electionId === e).map((l) => l.msg)).toEqual(['waiting for grace', 'waiting for dedup', 'waiting for persist', 'recounting', 'published']);
    console.log(`final recount: published ${String(published[0].msAfterClose)} ms after closesAt (close grace 500 ms)`);

    const official = await expectOfficial(p, e, expected);
    // The live path counted exactly the same votes.
    await waitForTotal(redis, e, expected.total, 90_000, redisKeyPrefix(p));
    await checkRedis(redis, e, expected, redisKeyPrefix(p));
    const live = await redisSnapshot(redis, e, redisKeyPrefix(p));
    expect(asExpected(official)).toEqual({ counts: live.counts, regions: live.regions });
    await stopWorkerCleanly(worker);
  });

  it('waits while the persist path is held back, and publishes once it covers the close', async () => {
    const { p, e, closesAt } = await closingElection('final-b', 4_000);
    const s = scheduler(p, 'scheduler');
    const expected = await voteAroundClose(p, closesAt, 21);
    const counting = await runWorker(p, { roles: ['dedup', 'count'] });
    await waitForDedupCaughtUp(p);
    await waitForTotal(redis, e, expected.total, 90_000, redisKeyPrefix(p));
    // The state changes before its detail does (first the end offsets, then each partition's
    // progress): wait for the detail that shows the persist group has covered nothing yet.
    await waitUntil(
      () => s.scheduler.status(e)?.state === 'waiting for persist' && /p\d+ none\/\d+/.test(s.scheduler.status(e)?.detail ?? ''),
      () => `the scheduler to wait for persist (${s.scheduler.status(e)?.state}: ${s.scheduler.status(e)?.detail})`,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // The dedup has caught up and counted everything live, yet nothing is official.
    expect(s.scheduler.status(e)!.detail).toMatch(/p\d+ none\/\d+/);
    expect(await readOfficial(p.dynamodb, p.table, e)).toBeUndefined();
    expect(s.logs.filter((l) => l.electionId === e).map((l) => l.msg)).toEqual(['waiting for grace', 'waiting for dedup', 'waiting for persist']);

    const persisting = await runWorker(p, { roles: ['persist'], instanceId: 'w2', stateDir: p.newStateDir('persist') });
    await waitUntil(() => finished(s.scheduler, e), () => `the scheduler to finish (${s.scheduler.status(e)?.state}: ${s.scheduler.status(e)?.detail})`, { timeoutMs: 120_000, intervalMs: 200 });
    expect(s.scheduler.status(e)!.state).toBe('published');
    await expectOfficial(p, e, expected);
    await stopWorkerCleanly(persisting);
    await stopWorkerCleanly(counting);
  });

  it('`votestream worker --roles ... audit` publishes with the key file it is given and names the deployment as the key does', async () => {
    const { p, e, closesAt } = await closingElection('final-cli', 4_000);
    const expected = await voteAroundClose(p, closesAt, 31);
    const worker = await runWorker(p, { extraArgs: ['--roles', 'dedup', 'count', 'persist', 'audit', '--key-file', keyFile, '--close-grace-ms', '500'] });
    const published = await worker.waitForLog((l) => l.electionId === e && l.msg === 'published', 120_000);
    expect(published.role).toBe('audit');
    const official = await expectOfficial(p, e, expected);
    expect(official.origin).toBe(`votestream/final-recount-test/${e}`);
    await stopWorkerCleanly(worker);
    // A worker that started after the result is official says so and does nothing else.
    const late = await runWorker(p, { instanceId: 'w2', stateDir: p.newStateDir('late'), extraArgs: ['--roles', 'audit', '--key-file', keyFile] });
    await late.waitForLog((l) => l.electionId === e && l.msg === 'already official');
    await stopWorkerCleanly(late);
  });

  it('rides out a DynamoDB outage: logs, backs off, retries, and publishes once DynamoDB answers again', async () => {
    const { p, e, closesAt } = await closingElection('final-outage', 3_000);
    // DynamoDB as the scheduler sees it: a proxy that drops every connection until it is let through.
    const target = new URL(p.dynamodbEndpoint);
    let up = false;
    const open = new Set<Socket>();
    const proxy = createServer((client) => {
      if (!up) return void client.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dynamodb = dynamoClient(`http://127.0.0.1:${(proxy.address() as { port: number }).port}`, { maxAttempts: 1 });
    cleanups.push(async () => {
      dynamodb.destroy();
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    });
    const s = scheduler(p, 'scheduler', { dynamodb, maxBackoffMs: 1_000 });
    const expected = await voteAroundClose(p, closesAt, 41);
    const worker = await runWorker(p, {});
    const retrying = () => s.logs.filter((l) => l.electionId === e && String(l.msg).includes('failed; retrying'));
    await waitUntil(() => retrying().length >= 3, () => `the scheduler to retry through the outage (${retrying().length} retries logged)`, { timeoutMs: 60_000, intervalMs: 200 });
    expect(s.scheduler.status(e)!.lastError).toBeDefined();
    expect(await readOfficial(p.dynamodb, p.table, e)).toBeUndefined();

    up = true;
    await waitUntil(() => finished(s.scheduler, e), () => `the scheduler to finish after the outage (${s.scheduler.status(e)?.state})`, { timeoutMs: 120_000, intervalMs: 200 });
    expect(s.scheduler.status(e)!.state).toBe('published');
    await expectOfficial(p, e, expected);
    await stopWorkerCleanly(worker);
  });
});
