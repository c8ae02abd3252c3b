import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VoteCountSink } from '../../../voting/count-sink.js';
import { countsKey, offsetsKey, regionsKey, updatesChannel } from '../../../voting/redis-keys.js';
import { waitUntil } from '../../support/poll.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import { services, uniquePrefix } from '../../support/services.js';
import { countModel, cut, interleave, voteStream, type ElectionModel, type VoteRecord } from './vote-stream.js';

interface Update {
  electionId: string;
  total: number;
  votes: number;
  offsets: Record<string, number>;
  counts: Record<string, number>;
}

const snapshot = (redis: Redis, electionId: string): Promise<ElectionModel> => redisSnapshot(redis, electionId);

/**
 * Collects the update messages of some elections. `take` returns exactly what was published
 * before it was called: it publishes a marker on one of the channels and waits for it, and Redis
 * delivers one subscriber's messages in the order the server executed the publishes.
 */
async function subscribe(url: string, elections: readonly string[]) {
  const sub = new Redis(url);
  const publisher = new Redis(url);
  const messages: (Update | { marker: number })[] = [];
  sub.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message) as Update | { marker: number }));
  await sub.subscribe(...elections.map((e) => updatesChannel(e)));
  let markers = 0;
  return {
    async take(): Promise<Update[]> {
      const marker = ++markers;
      await publisher.publish(updatesChannel(elections[0]), JSON.stringify({ marker }));
      await waitUntil(() => messages.some((m) => 'marker' in m && m.marker === marker), `update marker ${marker}`, { timeoutMs: 10_000, intervalMs: 5 });
      const upTo = messages.findIndex((m) => 'marker' in m && m.marker === marker);
      return messages.splice(0, upTo + 1).filter((m): m is Update => !('marker' in m));
    },
    close: async () => {
      await sub.quit();
      await publisher.quit();
    },
  };
}

/** (batch, election) pairs in `batches` that contain a record above `fence(election, partition)`. */
function appliedPairs(batches: readonly VoteRecord[][], fence: (e: string, p: number) => number): number {
  let n = 0;
  for (const batch of batches) {
    const elections = new Set(batch.filter((r) => r.offset > fence(r.value.electionId, r.partition)).map((r) => r.value.electionId));
    n += elections.size;
  }
  return n;
}

describe('RedisCountSink against real Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(services().redis);
  });
  afterAll(() => redis.quit());

  it('counts exactly, and replays (same or re-cut batches) change nothing and publish nothing', async () => {
    const prefix = uniquePrefix('rcs');
    const elections = [`${prefix}e1`, `${prefix}e2`, `${prefix}e3`];
    const stream = voteStream({ elections, partitions: 12, perPartition: 300 });
    const all = stream.flat();
    const sub = await subscribe(services().redis, elections);
    const registry = new Registry();
    // One sink per partition, as the runtime runs them (one task per partition), on a shared client.
    const sinks = stream.map(() => new VoteCountSink({ redis, registry }));
    await Promise.all(sinks.map((s, p) => s.open({ taskId: `count-${p}`, partition: p })));

    // Phase A: the first 130 records of each partition in batches of 25.
    const phaseA = stream.map((records) => cut(records.slice(0, 130), [25]));
    const resultsA = await Promise.all(phaseA.map(async (batches, p) => {
      let applied = 0;
      for (const batch of batches) applied += (await sinks[p].writeBatch(batch)).applied;
      return applied;
    }));
    expect(resultsA.reduce((a, b) => a + b, 0)).toBe(12 * 130);
    const modelA = countModel(stream.flatMap((r) => r.slice(0, 130)));
    for (const e of elections) expect(await snapshot(redis, e)).toEqual(modelA.get(e));
    const messagesA = await sub.take();
    expect(messagesA).toHaveLength(appliedPairs(phaseA.flat(), () => -1));
    for (const e of elections) {
      const mine = messagesA.filter((m) => m.electionId === e);
      expect(mine.reduce((n, m) => n + m.votes, 0)).toBe(Number(modelA.get(e)?.counts._total));
      expect(Math.max(...mine.map((m) => m.total))).toBe(Number(modelA.get(e)?.counts._total));
      for (const m of mine) expect(Object.values(m.counts).reduce((a, b) => a + b, 0)).toBe(m.votes);
    }

    // Phase B: the same batches again: all fenced, nothing published.
    for (let p = 0; p < 12; p++) {
      for (const batch of phaseA[p]) expect(await sinks[p].writeBatch(batch)).toEqual({ applied: 0, fenced: batch.length, retries: 0 });
    }
    for (const e of elections) expect(await snapshot(redis, e)).toEqual(modelA.get(e));
    expect(await sub.take()).toEqual([]);

    // Phase C: everything, re-cut (batches of 37 over the partitions interleaved, so batches mix
    // partitions and straddle the phase-A fences), through one sink.
    const fenceA = (e: string, p: number) => Number(modelA.get(e)?.offsets[String(p)] ?? -1);
    const phaseC = cut(interleave(stream), [37]);
    const straddling = phaseC.filter((b) => b.some((r) => r.offset <= fenceA(r.value.electionId, r.partition)) && b.some((r) => r.offset > fenceA(r.value.electionId, r.partition)));
    expect(straddling.length).toBeGreaterThan(0);
    const one = new VoteCountSink({ redis: services().redis, registry });
    await one.open({ taskId: 'count-all', partition: 0 });
    let appliedC = 0;
    let fencedC = 0;
    for (const batch of phaseC) {
      const r = await one.writeBatch(batch);
      appliedC += r.applied;
      fencedC += r.fenced;
    }
    expect({ appliedC, fencedC }).toEqual({ appliedC: all.length - 12 * 130, fencedC: 12 * 130 });
    const model = countModel(all);
    for (const e of elections) expect(await snapshot(redis, e)).toEqual(model.get(e));
    const expectedC = appliedPairs(phaseC, fenceA);
    const messagesC = await sub.take();
    expect(messagesC).toHaveLength(expectedC);
    for (const e of elections) {
      expect(Math.max(...messagesC.filter((m) => m.electionId === e).map((m) => m.total))).toBe(Number(model.get(e)?.counts._total));
    }

    // Phase D: all of it again, cut yet another way: nothing changes, nothing is published.
    for (const batch of cut(interleave(stream), [500])) expect((await one.writeBatch(batch)).applied).toBe(0);
    for (const e of elections) expect(await snapshot(redis, e)).toEqual(model.get(e));
    expect(await sub.take()).toEqual([]);

    const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.sink === 'redis')?.value;
    expect(await metric('votestream_sink_records_applied_total')).toBe(all.length);
    expect(await metric('votestream_sink_records_fenced_total')).toBe(2 * 12 * 130 + all.length);

    await Promise.all([...sinks, one].map((s) => s.close()));
    await sub.close();
    await redis.del(...elections.flatMap((e) => [countsKey(e), regionsKey(e), offsetsKey(e)]));
  });

  it('publishes the documented message for an applied batch', async () => {
    const e = `${uniquePrefix('rcs')}msg`;
    const sub = await subscribe(services().redis, [e]);
    const sink = new VoteCountSink({ redis });
    await sink.open({ taskId: 't', partition: 7 });
    const vote = (i: number, candidateId: string, region?: string): VoteRecord => ({
      topic: 'votes-accepted',
      partition: 7,
      offset: 100 + i,
      timestamp: 0,
      key: `u${i}`,
      value: { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80', electionId: e, voterId: `u${i}`, candidateId, ...(region ? { region } : {}), ts: 1, source: { partition: 7, offset: 9_007_199_254_740_000 + i } },
      headers: {},
    });
    await sink.write([vote(0, 'c1', 'SP'), vote(1, 'c2'), vote(2, 'c1', 'RJ')]);
    expect(await sub.take()).toEqual([{ electionId: e, total: 3, votes: 3, offsets: { '7': 102 }, counts: { c1: 2, c2: 1 } }]);
    expect(await snapshot(redis, e)).toEqual({ counts: { c1: '2', c2: '1', _total: '3' }, regions: { 'SP:c1': '1', 'RJ:c1': '1' }, offsets: { '7': '102' } });
    // A batch straddling the fence (102) counts only what is above it, in one message.
    await sink.write([vote(2, 'c1', 'RJ'), vote(3, 'c2', 'SP')]);
    expect(await sub.take()).toEqual([{ electionId: e, total: 4, votes: 1, offsets: { '7': 103 }, counts: { c2: 1 } }]);
    // A large offset survives the round trip exactly (no 14-digit rounding in Lua).
    await sink.write([{ ...vote(4, 'c3'), offset: 9_007_199_254_740_991 }]);
    expect((await redis.hget(offsetsKey(e), '7'))).toBe('9007199254740991');
    await sub.take();
    await sink.close();
    await sub.close();
    await redis.del(countsKey(e), regionsKey(e), offsetsKey(e));
  });
});
