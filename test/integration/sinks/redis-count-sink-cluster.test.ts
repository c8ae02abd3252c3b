/**
 * Issue 15, item 1 (client half): the count sink and the feed's subscriber on a real Redis Cluster
 * (three masters, no replicas, AOF everysec, as `stack up --redis-cluster` runs it), private to this
 * file because it wipes nodes. Elections are picked so they live on different masters.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SinkStateLostError } from '../../../runtime/errors.js';
import { createLogger } from '../../../runtime/logger.js';
import { createMetricsRegistry } from '../../../runtime/metrics.js';
import { createRedisClient, type RedisClient } from '../../../sinks/redis-client.js';
import { VoteCountSink } from '../../../voting/count-sink.js';
import { startFeed } from '../../../voting/feed/feed.js';
import { readElectionHashes } from '../../../voting/feed/snapshot.js';
import { UpdatesSubscriber } from '../../../voting/feed/updates-subscriber.js';
import { countProgressKey, countsKey, electionWatermarksKey, offsetsKey, regionsKey, updatesChannel } from '../../../voting/redis-keys.js';
import { cliEnv, runCliAsync } from '../../support/cli.js';
import { waitUntil } from '../../support/poll.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../../support/redis-cluster.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
} from '../../support/scenario.js';
import { countModel, cut, voteStream, type VoteRecord } from './vote-stream.js';

const PORT_OFFSET = 800;
const PARTITIONS = 4;

describe('RedisCountSink on a Redis Cluster', () => {
  let cluster: OwnRedisCluster;
  let redis: RedisClient;
  /** Two elections per master, in node order: [n0, n0, n1, n1, n2, n2]. */
  let elections: string[];
  let nodeOfElection: Map<string, number>;

  beforeAll(async () => {
    cluster = await startOwnRedisCluster(PORT_OFFSET);
    redis = createRedisClient(cluster.url);
    nodeOfElection = new Map();
    const perNode: string[][] = [[], [], []];
    for (let i = 0; perNode.some((l) => l.length < 2); i++) {
      const e = `e${i}`;
      const node = await cluster.nodeOf(countsKey(e));
      if (perNode[node].length < 2) {
        perNode[node].push(e);
        nodeOfElection.set(e, node);
      }
    }
    elections = perNode.flat();
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });
  beforeEach(async () => {
    for (const url of cluster.nodes) {
      const node = createRedisClient(url);
      await node.flushall();
      node.disconnect();
    }
  });

  const stream = () => voteStream({ elections, partitions: PARTITIONS, perPartition: 200, seed: 15 });
  const top = (rs: readonly VoteRecord[]) => rs[rs.length - 1].offset;
  const openSinks = async (registry = new Registry()) => {
    const sinks = Array.from({ length: PARTITIONS }, () => new VoteCountSink({ redis: cluster.url, registry }));
    const progress = await Promise.all(sinks.map((s, p) => s.open({ taskId: `count-${p}`, partition: p })));
    return { sinks, registry, appliedThrough: progress.map((p) => p.appliedThrough) };
  };
  const writeAll = async (sinks: VoteCountSink[], batches: VoteRecord[][][]) => {
    let applied = 0;
    let fenced = 0;
    await Promise.all(
      batches.map(async (list, p) => {
        for (const batch of list) {
          const r = await sinks[p].writeBatch(batch);
          applied += r.applied;
          fenced += r.fenced;
        }
      }),
    );
    return { applied, fenced };
  };
  const expectExactly = async (records: readonly VoteRecord[]) => {
    const model = countModel(records);
    for (const e of elections) expect(await redisSnapshot(redis, e), `election ${e}`).toEqual(model.get(e));
  };

  it('counts elections on every master exactly once; replays are no-ops; a reopened sink resumes from its progress', async () => {
    expect(new Set(nodeOfElection.values())).toEqual(new Set([0, 1, 2]));
    const all = stream();
    const first = all.map((rs) => rs.slice(0, 120));
    let { sinks, appliedThrough } = await openSinks();
    expect(appliedThrough).toEqual([null, null, null, null]);

    const batchesA = first.map((rs) => cut(rs, [25]));
    expect(await writeAll(sinks, batchesA)).toEqual({ applied: PARTITIONS * 120, fenced: 0 });
    await expectExactly(first.flat());
    // Each election's own watermark and each partition's progress, in their own slots.
    for (let p = 0; p < PARTITIONS; p++) {
      const progress = await redis.hgetall(countProgressKey(p));
      expect(progress.through).toBe(String(top(first[p])));
      for (const e of new Set(first[p].map((r) => r.value.electionId))) {
        expect(Number(progress[`g:${e}`])).toBeGreaterThanOrEqual(Math.max(...first[p].filter((r) => r.value.electionId === e).map((r) => r.offset)));
        expect(Number(await redis.hget(electionWatermarksKey(e), String(p)))).toBeGreaterThanOrEqual(Number(progress[`g:${e}`]));
      }
    }

    // The same batches again: every record fenced, nothing changes.
    for (let p = 0; p < PARTITIONS; p++) {
      for (const batch of batchesA[p]) expect(await sinks[p].writeBatch(batch)).toEqual({ applied: 0, fenced: batch.length, retries: 0 });
    }
    await expectExactly(first.flat());
    await Promise.all(sinks.map((s) => s.close()));

    // A new sink per partition resumes from its progress; the rest, re-cut so the first batch
    // straddles the fences (it starts 20 records before them), lands exactly once.
    ({ sinks, appliedThrough } = await openSinks());
    expect(appliedThrough).toEqual(first.map(top));
    const rest = all.map((rs) => cut(rs.slice(100), [37]));
    expect(await writeAll(sinks, rest)).toEqual({ applied: PARTITIONS * 80, fenced: PARTITIONS * 20 });
    await expectExactly(all.flat());
    expect((await Promise.all(sinks.map((s, p) => s.open({ taskId: `count-${p}`, partition: p })))).map((r) => r.appliedThrough)).toEqual(all.map(top));
    await Promise.all(sinks.map((s) => s.close()));
  });

  /** The first 120 records of each partition counted, in batches of 25, by sinks left open. */
  const countFirst = async () => {
    const all = stream();
    const first = all.map((rs) => rs.slice(0, 120));
    const { sinks, registry } = await openSinks();
    await writeAll(sinks, first.map((rs) => cut(rs, [25])));
    return { all, first, sinks, registry };
  };

  /**
   * What the runtime does per partition: open, write from just after what open reports, and on
   * SinkStateLostError close, reopen and go on from there.
   */
  const runLikeTheRuntime = async (all: VoteRecord[][]) => {
    await Promise.all(
      all.map(async (records, p) => {
        for (;;) {
          const sink = new VoteCountSink({ redis: cluster.url });
          const { appliedThrough } = await sink.open({ taskId: `count-${p}`, partition: p });
          try {
            for (const batch of cut(records.filter((r) => appliedThrough === null || r.offset > appliedThrough), [25])) await sink.writeBatch(batch);
            return;
          } catch (err) {
            if (!(err instanceof SinkStateLostError)) throw err;
          } finally {
            await sink.close();
          }
        }
      }),
    );
  };

  it('a master restarted empty while the sinks were down: open reports nothing applied, and the replay restores exact counts', async () => {
    const { all, first, sinks: running } = await countFirst();
    await Promise.all(running.map((s) => s.close()));

    const victim = nodeOfElection.get(elections[2])!;
    await cluster.restart(victim, { wipe: true });
    for (const e of elections) {
      if (nodeOfElection.get(e) === victim) expect(await redis.exists(countsKey(e))).toBe(0);
    }

    // Every partition has votes of an election on the wiped master at or below its progress, so
    // none can be trusted beyond its beginning (or the progress itself lived on the wiped master).
    const { sinks, appliedThrough } = await openSinks();
    expect(appliedThrough).toEqual([null, null, null, null]);
    const replay = all.map((rs) => cut(rs, [25]));
    const survivors = first.flat().filter((r) => nodeOfElection.get(r.value.electionId) !== victim).length;
    expect(await writeAll(sinks, replay)).toEqual({ applied: PARTITIONS * 200 - survivors, fenced: survivors });
    await expectExactly(all.flat());
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('a master restarted empty under running sinks: the next write of its elections throws SinkStateLostError, and the reopened replay restores exact counts', async () => {
    const { all, sinks: running } = await countFirst();

    const victim = nodeOfElection.get(elections[4])!;
    await cluster.restart(victim, { wipe: true });

    // The next batch of each partition holds votes of the wiped master's elections.
    const next = all.map((rs) => rs.slice(120, 145));
    for (const batch of next) expect(batch.some((r) => nodeOfElection.get(r.value.electionId) === victim)).toBe(true);
    const errors = await Promise.all(next.map((batch, p) => running[p].writeBatch(batch).then(() => undefined, (err: unknown) => err)));
    for (const err of errors) expect(err).toBeInstanceOf(SinkStateLostError);
    // Nothing of the wiped master's elections was counted from zero.
    for (const e of elections) if (nodeOfElection.get(e) === victim) expect(await redis.exists(countsKey(e))).toBe(0);
    await Promise.all(running.map((s) => s.close()));

    // What the runtime does next: reopen, replay from just after what open reports.
    const { sinks, appliedThrough } = await openSinks();
    expect(appliedThrough).toEqual([null, null, null, null]);
    await writeAll(sinks, all.map((rs) => cut(rs, [25])));
    await expectExactly(all.flat());
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('one election rolled back to an older state of its own (as an AOF that lost its tail): open reports the watermark of that state, and the replay from there is exact', async () => {
    const all = stream();
    const { sinks: running } = await openSinks();
    const e = elections[3];
    const keys = [countsKey(e), regionsKey(e), offsetsKey(e), electionWatermarksKey(e)];
    await writeAll(running, all.map((rs) => cut(rs.slice(0, 60), [20])));
    // E's four keys as they were after the first 60 records of each partition: one slot, one moment.
    const saved = await Promise.all(keys.map((k) => redis.dumpBuffer(k)));
    const savedWatermarks = await redis.hgetall(electionWatermarksKey(e));
    await writeAll(running, all.map((rs) => cut(rs.slice(60, 150), [30])));
    await Promise.all(running.map((s) => s.close()));
    await Promise.all(keys.map((k, i) => redis.restore(k, 0, saved[i]!, 'REPLACE')));

    const { sinks, appliedThrough } = await openSinks();
    // Every partition has E's votes after 60: each resumes from E's old watermark, not its progress.
    expect(appliedThrough).toEqual(all.map((_, p) => Number(savedWatermarks[String(p)])));
    expect(appliedThrough).toEqual(all.map((rs) => rs[59].offset));
    await writeAll(sinks, all.map((rs, p) => cut(rs.filter((r) => r.offset > appliedThrough[p]!), [25])));
    await expectExactly(all.flat());
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('a master killed -9 and restarted from its AOF (everysec, so maybe without its last second), with the sinks running: the counts end exact', async () => {
    const { all, sinks } = await countFirst();
    await cluster.restart(nodeOfElection.get(elections[0])!);
    await Promise.all(sinks.map((s) => s.close()));
    // Whether the master lost its last second or not, the sinks notice what it lacks and replay it.
    await runLikeTheRuntime(all);
    await expectExactly(all.flat());
  });

  it('a master down under running sinks: writes of its elections wait for it (CLUSTERDOWN, closed connections are retried), then every vote counts once', async () => {
    const { all, sinks, registry } = await countFirst();
    const retries = async () => (await registry.getSingleMetric('votestream_sink_retries_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    const victim = nodeOfElection.get(elections[1])!;
    await cluster.kill(victim);
    const rest = all.map((rs) => cut(rs.slice(120), [20]));
    const writing = writeAll(sinks, rest);
    // Some write is retrying against the dead master before it comes back.
    await waitUntil(async () => (await retries()) > 0, 'a retried write', { timeoutMs: 30_000 });
    await cluster.start(victim);
    expect(await writing).toEqual({ applied: PARTITIONS * 80, fenced: 0 });
    await expectExactly(all.flat());
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('the feed subscriber hears the updates of elections on every master, and its snapshot read works on each', async () => {
    const logger = createLogger({ level: 'silent' });
    // A prefix of its own: a script call of an earlier test still retried by its closed client (the
    // masters were killed under it) may land after beforeEach's FLUSHALL reset the fences, and would
    // be applied and heard here. In production no FLUSHALL resets a fence, so it would be fenced.
    const prefix = 'feedtest:';
    const updates = new UpdatesSubscriber({ url: cluster.url, prefix, logger });
    const heard = new Map<string, number>();
    updates.onUpdate((electionId) => heard.set(electionId, (heard.get(electionId) ?? 0) + 1));
    const masters = cluster.nodes.map((url) => createRedisClient(url));
    try {
      await updates.start();
      for (const e of elections) await updates.add(e);
      // A PUBLISH on each election's own master reaches the one subscriber connection, wherever
      // ioredis placed it. Also a handshake: ioredis settles its subscriber node (and may move it
      // once, resubscribing) right after connecting, and a message sent meanwhile is lost. The feed
      // rereads every election every refreshMs anyway; this test is about the broadcast.
      await waitUntil(async () => {
        for (const e of elections) if (!heard.has(e)) await masters[nodeOfElection.get(e)!]!.publish(updatesChannel(e, prefix), '{}');
        return elections.every((e) => heard.has(e));
      }, () => `a probe of every election, heard ${JSON.stringify([...heard])}`, { timeoutMs: 10_000, intervalMs: 200 });
      heard.clear();

      const records = stream()[0].slice(0, 60);
      const sink = new VoteCountSink({ redis, prefix });
      await sink.open({ taskId: 'count-0', partition: 0 });
      await sink.writeBatch(records);
      await sink.close();
      // A message for every election the batch applied, whichever master it lives on (a repeat is
      // harmless: an update only marks the election for a reread).
      const inBatch = [...new Set(records.map((r) => r.value.electionId))].sort();
      expect(new Set(inBatch.map((e) => nodeOfElection.get(e)))).toEqual(new Set([0, 1, 2]));
      expect(inBatch).toEqual([...elections].sort());
      await waitUntil(() => inBatch.every((e) => (heard.get(e) ?? 0) >= 1), () => `an update per election, heard ${JSON.stringify([...heard])}, masters ${JSON.stringify([...nodeOfElection])}`, { timeoutMs: 10_000 });
      // The feed's snapshot read (one MULTI over an election's hashes, one slot) on every master.
      const model = countModel(records);
      for (const e of inBatch) expect(await readElectionHashes(redis, e, prefix)).toEqual({ counts: model.get(e)?.counts, regions: model.get(e)?.regions, official: {} });
    } finally {
      for (const m of masters) m.disconnect();
      await updates.close();
    }
  });
});

describe('votestream worker (dedup, count, persist) against a Redis Cluster', () => {
  let cluster: OwnRedisCluster;
  let redis: RedisClient;
  let p: Pipeline;
  beforeAll(async () => {
    [cluster, p] = await Promise.all([startOwnRedisCluster(PORT_OFFSET), setupPipeline('rcl', 3)]);
    redis = createRedisClient(cluster.url);
  }, 180_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
    await p?.cleanup();
  });

  it('counts every distinct first vote exactly once in the cluster, with the elections on different masters; the feed, audit verify and rebuild redis work on it', async () => {
    const nodes = await Promise.all(p.elections.map((e) => cluster.nodeOf(countsKey(e.electionId, redisKeyPrefix(p)))));
    expect(new Set(nodes).size).toBeGreaterThan(1);
    const set = makeVotes(p, 3000, 21);
    await produceVotes(p, set.votes);
    const worker = await runWorker(p, { redisUrl: cluster.url });
    for (const e of p.elections) {
      const { total } = expectedFor(set, e.electionId);
      await waitForTotal(redis, e.electionId, total, 90_000, redisKeyPrefix(p));
      await waitForChains(p, e.electionId, total);
    }
    await stopWorkerCleanly(worker);
    await checkEverything(p, redis, set);

    // The feed on the cluster: its results are the counts, for elections on any master.
    const feed = await startFeed({
      driver: p.driver,
      logger: createLogger({ level: 'silent' }),
      registry: createMetricsRegistry(),
      config: { host: '127.0.0.1', port: 0, prefix: p.prefix, redis: cluster.url },
    });
    try {
      for (const e of p.elections) {
        const { total, counts } = expectedFor(set, e.electionId);
        let got: { total?: number; counts?: Record<string, number> } = {};
        await waitUntil(async () => {
          const res = await fetch(`http://127.0.0.1:${feed.port}/v1/elections/${e.electionId}/results`);
          got = (await res.json()) as typeof got;
          return res.status === 200;
        }, () => `the feed's results of ${e.electionId} (last ${JSON.stringify(got)})`, { timeoutMs: 30_000 });
        expect(got.total).toBe(total);
        expect(got.counts).toEqual(Object.fromEntries(Object.entries(counts).filter(([k]) => k !== '_total').map(([k, v]) => [k, Number(v)])));
      }
    } finally {
      await feed.close();
    }

    // The commands read and write the cluster too: `audit verify` finds Redis equal to the chains,
    // and `rebuild redis --all` puts back the counts of elections whose keys are gone.
    const env = cliEnv({ brokers: p.brokers, redis: cluster.url, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });
    for (const e of p.elections) {
      const verify = await runCliAsync(['audit', 'verify', '--election', e.electionId], env);
      expect(verify.status, verify.stderr).toBe(0);
    }
    for (const e of p.elections) await redis.del(...[countsKey, regionsKey, offsetsKey].map((key) => key(e.electionId, redisKeyPrefix(p))));
    const rebuild = await runCliAsync(['rebuild', 'redis', '--all'], env);
    expect(rebuild.status, rebuild.stderr).toBe(0);
    await checkEverything(p, redis, set);
  });
});
