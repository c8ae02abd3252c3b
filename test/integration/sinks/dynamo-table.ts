/** A throwaway `votestream-votes`-shaped table (pk S, sk S) for one test file. */
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../../voting/provision.js';

export async function createVotesTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await ensureTable(dynamodb, table, { sortKey: true });
}

export async function deleteTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
}
