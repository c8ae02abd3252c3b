/**
 * Issue 8, fault 2 (Redis side) and the sink side of fault 3: the count sink never counts on over
 * state Redis lost, and a Redis that refuses writes is an InfrastructureError, never a record error.
 * A private redis-server for everything that flushes or reconfigures Redis; the shared one only
 * for the prefix test, under unique prefixes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfrastructureError, SinkStateLostError } from '../../../runtime/errors.js';
import { VoteCountSink } from '../../../voting/count-sink.js';
import { countsKey, offsetsKey, regionsKey, watermarksKey } from '../../../voting/redis-keys.js';
import { services, uniquePrefix } from '../../support/services.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { countModel, voteStream } from './vote-stream.js';

const task = { taskId: 'count-3', partition: 3 };

describe('RedisCountSink over lost state', () => {
  let own: OwnRedis;
  let redis: Redis;
  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await own.stop();
  });

  // Partition 3 only: one sink serves one partition, as in a task.
  const records = voteStream({ elections: ['e1', 'e2'], partitions: 4, perPartition: 40, seed: 8 })[3];
  const first = records.slice(0, 20);
  const second = records.slice(20);
  const top = (rs: typeof records) => rs[rs.length - 1].offset;

  async function everything(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = { watermarks: await redis.hgetall(watermarksKey()) };
    for (const e of ['e1', 'e2']) {
      out[`${e}:counts`] = await redis.hgetall(countsKey(e));
      out[`${e}:regions`] = await redis.hgetall(regionsKey(e));
      out[`${e}:offsets`] = await redis.hgetall(offsetsKey(e));
    }
    return out;
  }

  it('open reports the watermark; after a FLUSHALL the next write throws SinkStateLostError and applies nothing, and open reports null', async () => {
    await redis.flushall();
    const sink = new VoteCountSink({ redis: own.url });
    expect(await sink.open(task)).toEqual({ appliedThrough: null });
    await sink.write(first);
    expect(await redis.hget(watermarksKey(), '3')).toBe(String(top(first)));

    await redis.flushall();
    const error = await sink.write(second).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SinkStateLostError);
    // Nothing of the refused batch landed: counting it would make `_total` count only new votes.
    expect(await redis.dbsize()).toBe(0);
    await sink.close();

    // What the runtime does next: reopen (null: replay the partition from its beginning), replay.
    const reopened = new VoteCountSink({ redis: own.url });
    expect(await reopened.open(task)).toEqual({ appliedThrough: null });
    await reopened.write(records);
    expect(await reopened.open(task)).toEqual({ appliedThrough: top(records) });
    await reopened.close();
    const model = countModel(records);
    for (const e of ['e1', 'e2']) {
      expect(await redis.hgetall(countsKey(e))).toEqual(model.get(e)?.counts);
      expect(await redis.hgetall(regionsKey(e))).toEqual(model.get(e)?.regions);
      expect(await redis.hgetall(offsetsKey(e))).toEqual(model.get(e)?.offsets);
    }
  });

  it('a watermark rolled back (an AOF that lost its last second, a stale replica) is lost state too', async () => {
    await redis.flushall();
    const sink = new VoteCountSink({ redis: own.url });
    await sink.open(task);
    await sink.write(first);
    const before = await everything();
    // Roll back as a truncated AOF would: the watermark and the fences of the last batch go together.
    await redis.hset(watermarksKey(), '3', String(first[9].offset));
    await expect(sink.write(second)).rejects.toBeInstanceOf(SinkStateLostError);
    expect(await everything()).toEqual({ ...before, watermarks: { '3': String(first[9].offset) } });
    await sink.close();
  });

  it('a Redis that refuses writes (OOM under noeviction) is an InfrastructureError with its cause, and nothing is applied', async () => {
    await redis.flushall();
    const sink = new VoteCountSink({ redis: own.url });
    await sink.open(task);
    await sink.write(first);
    const before = await everything();
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');
    try {
      const error = await sink.write(second).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(InfrastructureError);
      expect(error).not.toBeInstanceOf(SinkStateLostError);
      expect(String((error as InfrastructureError).cause)).toMatch(/OOM/);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    expect(await everything()).toEqual(before);
    // Once Redis accepts writes again, the same batch goes through (the runtime replays it).
    await sink.write(second);
    const model = countModel(records);
    expect(await redis.hgetall(countsKey('e1'))).toEqual(model.get('e1')?.counts);
    await sink.close();
  });
});

describe('RedisCountSink deployment prefix', () => {
  it('two deployments on one Redis never share fences, watermarks or channels', async () => {
    const url = services().redis;
    const redis = new Redis(url);
    const a = uniquePrefix('pa');
    const b = uniquePrefix('pb');
    // The same election id, partition and offsets in both deployments: a shared fence would skip b's votes.
    const election = `${a}shared`;
    const records = voteStream({ elections: [election], partitions: 1, perPartition: 30, seed: 3 })[0];
    const sub = new Redis(url);
    const channels: string[] = [];
    sub.on('message', (channel: string) => channels.push(channel));
    await sub.subscribe(`${a}vs:{${election}}:updates`, `${b}vs:{${election}}:updates`, `vs:{${election}}:updates`);
    try {
      for (const prefix of [a, b]) {
        const sink = new VoteCountSink({ redis: url, prefix });
        await sink.open({ taskId: 'count-0', partition: 0 });
        const result = await sink.writeBatch(records);
        expect(result).toEqual({ applied: 30, fenced: 0, retries: 0 });
        await sink.close();
      }
      const model = countModel(records).get(election);
      for (const prefix of [a, b]) {
        expect(await redis.hgetall(countsKey(election, prefix))).toEqual(model?.counts);
        expect(await redis.hgetall(offsetsKey(election, prefix))).toEqual(model?.offsets);
        expect(await redis.hget(watermarksKey(prefix), '0')).toBe(String(records[29].offset));
      }
      expect(await redis.exists(countsKey(election), offsetsKey(election))).toBe(0);
      // PUBLISH is delivered before the script's reply, so both messages are here already.
      await sub.ping();
      expect(channels).toEqual([`${a}vs:{${election}}:updates`, `${b}vs:{${election}}:updates`]);
    } finally {
      await redis.del(...[a, b].flatMap((p) => [countsKey(election, p), regionsKey(election, p), offsetsKey(election, p), watermarksKey(p)]));
      sub.disconnect();
      redis.disconnect();
    }
  });
});
