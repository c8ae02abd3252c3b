/**
 * Issue 8, fault 2 (DynamoDB side) and the sink side of fault 3: the vote sink never starts a chain
 * again at seq 1 over a table that lost it, and a request DynamoDB refuses is an
 * InfrastructureError, never a record error.
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { InfrastructureError, SinkStateLostError } from '../../../runtime/errors.js';
import { readChain } from '../../../voting/vote-chain.js';
import { DynamoVoteSink } from '../../../voting/vote-log-sink.js';
import { verifyChain } from '../../../voting/hash-chain.js';
import { services, uniquePrefix } from '../../support/services.js';
import { createVotesTable, deleteTable } from './dynamo-table.js';
import { voteStream } from './vote-stream.js';

const task = { taskId: 'persist-2', partition: 2 };

describe('DynamoVoteSink over lost state', () => {
  let dynamodb: DynamoDBClient;
  const tables: string[] = [];
  beforeAll(() => {
    dynamodb = dynamoClient(services().dynamodbEndpoint);
  });
  afterEach(async () => {
    for (const t of tables.splice(0)) await deleteTable(dynamodb, t);
  });
  afterAll(() => dynamodb.destroy());

  async function freshTable(): Promise<string> {
    const table = `${uniquePrefix('dls')}votestream-votes`;
    tables.push(table);
    await createVotesTable(dynamodb, table);
    return table;
  }

  const prefix = uniquePrefix('dls');
  const elections = [`${prefix}e1`, `${prefix}e2`];
  const records = voteStream({ elections, partitions: 3, perPartition: 60, seed: 21 })[2];
  const first = records.slice(0, 30);
  const second = records.slice(30);
  const top = (rs: typeof records) => rs[rs.length - 1].offset;

  async function hashes(table: string): Promise<string[][]> {
    return Promise.all(
      elections.map(async (e) => {
        const { head, votes } = await readChain(dynamodb, table, e, 2);
        expect(verifyChain(votes, head).ok).toBe(true);
        return votes.map((v) => v.hash);
      }),
    );
  }

  async function itemCount(table: string): Promise<number> {
    let n = 0;
    for (const e of elections) {
      const out = await dynamodb.send(
        new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `ELECTION#${e}#P#002` } }, Select: 'COUNT', ConsistentRead: true }),
      );
      n += out.Count ?? 0;
    }
    return n;
  }

  it('open reports the watermark: null on a fresh table, then the highest offset every chain holds', async () => {
    const table = await freshTable();
    const sink = new DynamoVoteSink({ dynamodb, tableName: table });
    expect(await sink.open(task)).toEqual({ appliedThrough: null });
    await sink.write(first);
    await sink.close();
    const again = new DynamoVoteSink({ dynamodb, tableName: table });
    expect(await again.open(task)).toEqual({ appliedThrough: top(first) });
    await again.close();
  });

  it('a table emptied under the sink (DynamoDB Local restarted) refuses the next write before any vote lands', async () => {
    const table = await freshTable();
    const sink = new DynamoVoteSink({ dynamodb, tableName: table });
    await sink.open(task);
    await sink.write(first);
    // Gone and back empty, as after an in-memory DynamoDB Local restart and another task's reopen.
    await deleteTable(dynamodb, table);
    await createVotesTable(dynamodb, table);
    await expect(sink.write(second)).rejects.toBeInstanceOf(SinkStateLostError);
    // Without the check the chains would restart at seq 1 from a later offset, and still verify.
    expect(await itemCount(table)).toBe(0);
    await sink.close();
  });

  it('a vanished table is lost state; reopening recreates it and the replay rebuilds identical hashes', async () => {
    // The chains as an undisturbed sink writes them.
    const reference = await freshTable();
    const straight = new DynamoVoteSink({ dynamodb, tableName: reference });
    await straight.open(task);
    await straight.write(records);
    await straight.close();
    const expected = await hashes(reference);
    expect(expected.flat()).toHaveLength(records.length);

    const table = await freshTable();
    const sink = new DynamoVoteSink({ dynamodb, tableName: table });
    await sink.open(task);
    await sink.write(first);
    await deleteTable(dynamodb, table);
    await expect(sink.write(second)).rejects.toBeInstanceOf(SinkStateLostError);
    await sink.close();

    // Without a way to recreate the table, open refuses loudly.
    const strict = new DynamoVoteSink({ dynamodb, tableName: table });
    await expect(strict.open(task)).rejects.toBeInstanceOf(InfrastructureError);
    await strict.close();

    // What the runtime does next: reopen (null: the partition from its beginning), replay.
    const reopened = new DynamoVoteSink({ dynamodb, tableName: table, recreateLostTable: (client, t) => createVotesTable(client, t) });
    expect(await reopened.open(task)).toEqual({ appliedThrough: null });
    await reopened.write(records);
    await reopened.close();
    expect(await hashes(table)).toEqual(expected);
  });

  it('a head that moved backwards (a chain lost under a cached head) is lost state', async () => {
    const table = await freshTable();
    // No open: no watermark guard, so only the head check can see it.
    const sink = new DynamoVoteSink({ dynamodb, tableName: table });
    await sink.write(first);
    await deleteTable(dynamodb, table);
    await createVotesTable(dynamodb, table);
    await expect(sink.write(second)).rejects.toBeInstanceOf(SinkStateLostError);
    expect(await itemCount(table)).toBe(0);
    await sink.close();
  });

  it('a request DynamoDB refuses (ValidationException) is an InfrastructureError with its cause', async () => {
    // Table names are 3..255 characters: DynamoDB rejects the request itself.
    const sink = new DynamoVoteSink({ dynamodb, tableName: 'ab' });
    const error = await sink.open(task).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).not.toBeInstanceOf(SinkStateLostError);
    expect((error as InfrastructureError).cause).toMatchObject({ name: 'ValidationException' });
    const unopened = new DynamoVoteSink({ dynamodb, tableName: 'ab' });
    await expect(unopened.write(first)).rejects.toBeInstanceOf(InfrastructureError);
    await sink.close();
    await unopened.close();
  });
});
