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
  // Both tables use the same key schema: pk (S) + sk (S) for votes; pk (S) alone for elections.
  for (const [table, withSortKey] of [
    [names.votes, true],
    [names.elections, false],
  ] as const) {
    if (await tableExists(options.dynamodb, table)) {
      found.push(table);
      continue;
    }
    try {
      await options.dynamodb.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            ...(withSortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : []),
          ],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(withSortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
        }),
      );
      created.push(table);
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
      found.push(table);
    }
    await waitUntilTableExists({ client: options.dynamodb, maxWaitTime: 60 }, { TableName: table });
  }
  return { topics, tables: { created, found } };
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
