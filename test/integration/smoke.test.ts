import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, TransactionCanceledException, TransactWriteItemsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  Consumer,
  FetchIsolationLevels,
  MessagesStreamModes,
  Producer,
  ProduceAcks,
  stringDeserializers,
  stringSerializers,
  type FetchIsolationLevelValue,
} from '@platformatic/kafka';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { ensureTopics } from '../../runtime/kafka/topic-admin.js';
import { ensureTable } from '../../voting/provision.js';
import { services, uniquePrefix } from '../support/services.js';

/** Reads a one-partition topic from the start until `lastValue` arrives; returns the values seen. */
async function readUntil(brokers: string, topic: string, isolationLevel: FetchIsolationLevelValue, lastValue: string): Promise<string[]> {
  const consumer = new Consumer({
    clientId: 'smoke-reader',
    groupId: `${topic}-reader-${isolationLevel}`,
    bootstrapBrokers: brokers.split(','),
    deserializers: stringDeserializers,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, isolationLevel, maxWaitTime: 200 });
    const values: string[] = [];
    for await (const message of stream) {
      values.push(message.value);
      if (message.value === lastValue) break;
    }
    await stream.close();
    return values;
  } finally {
    await consumer.close(true);
  }
}

describe('smoke: the real services answer as the design needs', () => {
  it('Kafka: committed transactions are visible to read_committed, aborted ones only to read_uncommitted', async () => {
    const { brokers } = services();
    const topic = `${uniquePrefix('smoke')}txn`;
    await ensureTopics(brokers, [{ name: topic, partitions: 1, replicationFactor: 1, configs: {} }]);
    const producer = new Producer({
      clientId: 'smoke-producer',
      bootstrapBrokers: brokers.split(','),
      idempotent: true,
      acks: ProduceAcks.ALL,
      transactionalId: `${topic}-txid`,
      serializers: stringSerializers,
    });
    try {
      const inTransaction = async (values: string[], outcome: 'commit' | 'abort') => {
        const txn = await producer.beginTransaction();
        await txn.send({ messages: values.map((value, i) => ({ topic, partition: 0, key: `k${i}`, value })) });
        await (outcome === 'commit' ? txn.commit() : txn.abort());
      };
      await inTransaction(['a1', 'a2', 'a3'], 'commit');
      await inTransaction(['x1', 'x2'], 'abort');
      await inTransaction(['b1'], 'commit');
    } finally {
      await producer.close();
    }
    expect(await readUntil(brokers, topic, FetchIsolationLevels.READ_COMMITTED, 'b1')).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(await readUntil(brokers, topic, FetchIsolationLevels.READ_UNCOMMITTED, 'b1')).toEqual(['a1', 'a2', 'a3', 'x1', 'x2', 'b1']);
  });

  describe('Redis', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(services().redis);
    });
    afterAll(() => redis.disconnect());

    it('round-trips a hash and a script through the server', async () => {
      const key = `${uniquePrefix('smoke')}counts`;
      await redis.hset(key, { c1: '3', _total: '3' });
      expect(await redis.hincrby(key, 'c1', 2)).toBe(5);
      expect(await redis.hgetall(key)).toEqual({ c1: '5', _total: '3' });
      expect(await redis.eval("return redis.call('HGET', KEYS[1], ARGV[1])", 1, key, '_total')).toBe('3');
      await redis.del(key);
      expect(await redis.exists(key)).toBe(0);
    });
  });

  describe('DynamoDB', () => {
    let dynamodb: DynamoDBClient;
    const table = `${uniquePrefix('smoke')}txn`;
    beforeAll(async () => {
      dynamodb = dynamoClient(services().dynamodbEndpoint);
      await ensureTable(dynamodb, table, { sortKey: true });
    });
    afterAll(async () => {
      const { DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
      await dynamodb.send(new DeleteTableCommand({ TableName: table }));
      dynamodb.destroy();
    });

    it('TransactWriteItems applies all or nothing, and a failed condition cancels the whole transaction', async () => {
      const pk = { S: 'ELECTION#e1#P#000' };
      const head = (lastSeq: number) => ({ pk, sk: { S: 'HEAD' }, lastSeq: { N: String(lastSeq) } });
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: head(0) }));
      const write = (expectedSeq: number, seq: number) =>
        dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: table, Item: { pk, sk: { S: `VOTE#${String(seq).padStart(12, '0')}` } }, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Put: {
                  TableName: table,
                  Item: head(seq),
                  ConditionExpression: 'lastSeq = :prev',
                  ExpressionAttributeValues: { ':prev': { N: String(expectedSeq) } },
                },
              },
            ],
          }),
        );
      await write(0, 1);
      const failure = await write(0, 2).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(TransactionCanceledException);
      expect((failure as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
      const vote2 = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk, sk: { S: 'VOTE#000000000002' } } }));
      expect(vote2.Item).toBeUndefined();
      const current = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk, sk: { S: 'HEAD' } }, ConsistentRead: true }));
      expect(current.Item?.lastSeq).toEqual({ N: '1' });
      await expect(
        dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk, sk: { S: 'VOTE#000000000001' } }, ConditionExpression: 'attribute_not_exists(pk)' })),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    });
  });
});
