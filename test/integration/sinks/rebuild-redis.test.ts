import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { DynamoVoteSink } from '../../../voting/vote-log-sink.js';
import { VoteCountSink } from '../../../voting/count-sink.js';
import { countsKey, offsetsKey, regionsKey } from '../../../voting/redis-keys.js';
import { rebuildRedis } from '../../../voting/rebuild-redis.js';
import { redisSnapshot } from '../../support/redis-snapshot.js';
import { services, uniquePrefix } from '../../support/services.js';
import { createVotesTable, deleteTable } from './dynamo-table.js';
import { countModel, cut, voteStream } from './vote-stream.js';

const snapshot = redisSnapshot;

describe('rebuildRedis from the DynamoDB chains', () => {
  let dynamodb: DynamoDBClient;
  let redis: Redis;
  const table = `${uniquePrefix('rb')}votestream-votes`;
  beforeAll(async () => {
    dynamodb = dynamoClient(services().dynamodbEndpoint);
    redis = new Redis(services().redis);
    await createVotesTable(dynamodb, table);
  });
  afterAll(async () => {
    await deleteTable(dynamodb, table);
    dynamodb.destroy();
    await redis.quit();
  });

  it('restores counts, regions and fences exactly as the sinks left them', async () => {
    const e = `${uniquePrefix('rb')}e1`;
    const other = `${uniquePrefix('rb')}e2`;
    const stream = voteStream({ elections: [e, other], partitions: 12, perPartition: 30, seed: 3 });
    const count = new VoteCountSink({ redis });
    const persist = new DynamoVoteSink({ dynamodb, tableName: table });
    for (let p = 0; p < 12; p++) {
      for (const batch of cut(stream[p], [8])) {
        await count.write(batch);
        await persist.write(batch);
      }
    }
    const before = await snapshot(redis, e);
    const otherBefore = await snapshot(redis, other);
    expect(before).toEqual(countModel(stream.flat()).get(e));

    await redis.del(countsKey(e), regionsKey(e), offsetsKey(e));
    expect(await snapshot(redis, e)).toEqual({ counts: {}, regions: {}, offsets: {} });
    const result = await rebuildRedis({ dynamodb, redis, tableName: table, electionId: e, partitions: 12 });
    expect(await snapshot(redis, e)).toEqual(before);
    expect(result.total).toBe(Number(before.counts._total));
    expect({ ...result.counts, _total: result.total }).toEqual(Object.fromEntries(Object.entries(before.counts).map(([k, v]) => [k, Number(v)])));
    expect(result.regions).toEqual(Object.fromEntries(Object.entries(before.regions).map(([k, v]) => [k, Number(v)])));
    expect(result.offsets).toEqual(Object.fromEntries(Object.entries(before.offsets).map(([k, v]) => [k, Number(v)])));
    // Only this election's keys were touched.
    expect(await snapshot(redis, other)).toEqual(otherBefore);
    await count.close();
    await persist.close();
    await redis.del(...[e, other].flatMap((x) => [countsKey(x), regionsKey(x), offsetsKey(x)]));
  });

  it('when DynamoDB lags behind Redis, the rebuilt fences make the count sink re-apply exactly the lag', async () => {
    const e = `${uniquePrefix('rb')}lag`;
    const stream = voteStream({ elections: [e], partitions: 12, perPartition: 20, seed: 4 });
    const count = new VoteCountSink({ redis });
    const persist = new DynamoVoteSink({ dynamodb, tableName: table });
    for (let p = 0; p < 12; p++) {
      await count.write(stream[p]);
      await persist.write(stream[p].slice(0, 12)); // the persist path is behind
    }
    await redis.del(countsKey(e), regionsKey(e), offsetsKey(e));
    const result = await rebuildRedis({ dynamodb, redis, tableName: table, electionId: e, partitions: 12 });
    expect(result.total).toBe(12 * 12);
    expect(await snapshot(redis, e)).toEqual(countModel(stream.flatMap((r) => r.slice(0, 12))).get(e));
    // The count path resumes by replaying everything: only the lag is applied.
    let applied = 0;
    for (let p = 0; p < 12; p++) applied += (await count.writeBatch(stream[p])).applied;
    expect(applied).toBe(12 * 8);
    expect(await snapshot(redis, e)).toEqual(countModel(stream.flat()).get(e));
    await count.close();
    await persist.close();
    await redis.del(countsKey(e), regionsKey(e), offsetsKey(e));
  });
});
