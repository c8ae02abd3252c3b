import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { ConfigError } from '../runtime/errors.js';
import { ensureTopics, type EnsureTopicsResult } from '../runtime/kafka/topic-admin.js';
import { ELECTIONS_TOPIC_CONFIGS, tableNames, topicNames, topicSpecs } from './topics.js';

export interface ProvisionOptions {
  readonly brokers: string;
  readonly dynamodb: DynamoDBClient;
  readonly prefix?: string;
  readonly partitions?: number;
}

export interface ProvisionResult {
  readonly topics: EnsureTopicsResult & {
    /** Topic configs changed on existing topics (`elections` made non-compacted), as `name=value`. */
    readonly migrated: string[];
  };
  readonly tables: { readonly created: string[]; readonly found: string[] };
}

/** Creates the voting system's topics (DESIGN section 3) and DynamoDB tables; idempotent. */
export async function provisionVoting(options: ProvisionOptions): Promise<ProvisionResult> {
  const specs = topicSpecs({ prefix: options.prefix, partitions: options.partitions });
  const ensured = await ensureTopics(options.brokers, specs);
  const migrated = ensured.found.includes(topicNames(options.prefix).elections) ? await migrateElectionsTopic(options.brokers, topicNames(options.prefix).elections) : [];
  const topics = { ...ensured, migrated };
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

/**
 * Before election versions, `elections` was compacted: compaction would delete the old versions that
 * a replay needs to judge old votes. Makes an existing topic `cleanup.policy=delete` with infinite
 * retention; returns what it changed (`name=value`), or throws ConfigError saying what to do when the
 * broker refuses. Versions already removed by compaction cannot be brought back; a topic from before
 * versions holds records without `version`, which every worker skips (and counts): republish those
 * elections as versions.
 */
export async function migrateElectionsTopic(brokers: string, topic: string): Promise<string[]> {
  const admin = new Admin({ clientId: 'votestream-init', bootstrapBrokers: brokers.split(','), timeout: 15_000 });
  try {
    const [description] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: Object.keys(ELECTIONS_TOPIC_CONFIGS) }],
    });
    const current = new Map((description?.configs ?? []).map((c) => [c.name, c.value]));
    const changes = Object.entries(ELECTIONS_TOPIC_CONFIGS).filter(([name, value]) => current.get(name) !== value);
    if (changes.length === 0) return [];
    try {
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: changes.map(([name, value]) => ({ name, value, configOperation: IncrementalAlterConfigOperationTypes.SET })),
          },
        ],
      });
    } catch (err) {
      const wanted = changes.map(([name, value]) => `${name}=${value}`).join(',');
      throw new ConfigError(
        `topic "${topic}" has ${changes.map(([name]) => `${name}=${String(current.get(name))}`).join(', ')}, but election versions must be kept forever ` +
          `(compaction or retention would delete versions that replays need) and changing it failed: ${(err as Error).message}. ` +
          `Change it by hand (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ${wanted}) and run init again.`,
      );
    }
    return changes.map(([name, value]) => `${name}=${value}`);
  } finally {
    await admin.close();
  }
}
