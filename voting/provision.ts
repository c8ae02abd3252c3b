import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ensureTopics, type EnsureTopicsResult } from '../runtime/kafka/topic-admin.js';
import { tableNames, topicSpecs } from './topics.js';

export interface ProvisionOptions {
  readonly brokers: string;
  readonly dynamodb: DynamoDBClient;
  readonly prefix?: string;
  readonly partitions?: number;
}

export interface ProvisionResult {
  readonly topics: EnsureTopicsResult;
  readonly tables: { readonly created: string[]; readonly found: string[] };
}

/** Creates the voting system's topics (DESIGN section 3) and DynamoDB tables; idempotent. */
export async function provisionVoting(options: ProvisionOptions): Promise<ProvisionResult> {
  const specs = topicSpecs({ prefix: options.prefix, partitions: options.partitions });
  const topics = await ensureTopics(options.brokers, specs);
  const names = tableNames(options.prefix);
  const created: string[] = [];
  const found: string[] = [];
  // votes: pk (S) + sk (S), one hash chain per (election, partition); elections: pk (S) alone.
  for (const [table, sortKey] of [
    [names.votes, true],
    [names.elections, false],
  ] as const) {
    ((await ensureTable(options.dynamodb, table, { sortKey })) === 'created' ? created : found).push(table);
  }
  return { topics, tables: { created, found } };
}

/** Creates a pay-per-request table keyed by `pk` (S) and optionally `sk` (S) unless it exists; waits until it is active. */
export async function ensureTable(client: DynamoDBClient, table: string, options: { sortKey: boolean }): Promise<'created' | 'found'> {
  if (await tableExists(client, table)) return 'found';
  let outcome: 'created' | 'found' = 'created';
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          ...(options.sortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(options.sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
      }),
    );
  } catch (err) {
    // Created by someone else in between: that is what we wanted.
    if (!(err instanceof ResourceInUseException)) throw err;
    outcome = 'found';
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
  return outcome;
}

async function tableExists(client: DynamoDBClient, table: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return false;
    throw err;
  }
}
