import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
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
    /** Configs changed on existing topics (`elections` made non-compacted), as `<topic>: name=value`. */
    readonly migrated: string[];
  };
  readonly tables: { readonly created: string[]; readonly found: string[] };
}

/** Creates the voting system's topics (DESIGN section 3) and DynamoDB tables; idempotent. */
export async function provisionVoting(options: ProvisionOptions): Promise<ProvisionResult> {
  const specs = topicSpecs({ prefix: options.prefix, partitions: options.partitions });
  // Replication from the cluster (runtime/kafka/replication.ts): three copies and min.insync.replicas=2 on three brokers.
  const ensured = await ensureTopics(options.brokers, specs.map((s) => ({ name: s.name, partitions: s.partitions, configs: s.configs })));
  const topicsOf = topicNames(options.prefix);
  const migrated: string[] = [];
  // Topics made by an older init: elections was compacted, votes had no bound on future timestamps.
  for (const spec of specs.filter((t) => ensured.found.includes(t.name) && (t.name === topicsOf.elections || t.name === topicsOf.votes))) {
    const required = spec.name === topicsOf.elections ? ELECTIONS_TOPIC_CONFIGS : { 'message.timestamp.after.max.ms': spec.configs['message.timestamp.after.max.ms'] };
    for (const change of await migrateTopicConfigs(options.brokers, spec.name, required)) migrated.push(`${spec.name}: ${change}`);
  }
  const topics = { ...ensured, migrated };
  const names = tableNames(options.prefix);
  const created: string[] = [];
  const found: string[] = [];
  // votes: pk (S) + sk (S), one hash chain per (election, partition); elections: pk = electionId,
  // sk = the version (voting/admin/election-store.ts). An elections table from before versions had
  // no sort key; nothing wrote to it, so an empty one is recreated with the right keys.
  await replaceEmptyTableWithoutSortKey(options.dynamodb, names.elections);
  for (const table of [names.votes, names.elections]) {
    ((await ensureTable(options.dynamodb, table, { sortKey: true })) === 'created' ? created : found).push(table);
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

async function replaceEmptyTableWithoutSortKey(client: DynamoDBClient, table: string): Promise<void> {
  let keys;
  try {
    keys = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.KeySchema ?? [];
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return;
    throw err;
  }
  if (keys.some((k) => k.KeyType === 'RANGE')) return;
  const { Count } = await client.send(new ScanCommand({ TableName: table, Limit: 1, Select: 'COUNT' }));
  if ((Count ?? 0) > 0) {
    throw new ConfigError(`table ${table} has no sort key and holds items: move them to a table keyed by pk (electionId) and sk (version), then rerun init`);
  }
  await client.send(new DeleteTableCommand({ TableName: table }));
  await waitUntilTableNotExists({ client, maxWaitTime: 60 }, { TableName: table });
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
 * Brings an existing topic's configs to `required`; returns what it changed (`name=value`), or throws
 * ConfigError saying what to do when the broker refuses. The case it exists for: before election
 * versions, `elections` was compacted, and compaction would delete the old versions that a replay
 * needs to judge old votes. Versions already removed by compaction cannot be brought back; a topic
 * from before versions holds records without `version`, which every worker skips (and counts):
 * republish those elections as versions.
 */
export async function migrateTopicConfigs(brokers: string, topic: string, required: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const admin = new Admin({ clientId: 'votestream-init', bootstrapBrokers: brokers.split(','), timeout: 15_000 });
  try {
    const [description] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: Object.keys(required) }],
    });
    const current = new Map((description?.configs ?? []).map((c) => [c.name, c.value]));
    const changes = Object.entries(required).flatMap(([name, value]) => (value === undefined || current.get(name) === value ? [] : [[name, value] as const]));
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
        `topic "${topic}" has ${changes.map(([name]) => `${name}=${String(current.get(name))}`).join(', ')}, but needs ${wanted} ` +
          `(election versions are kept forever: compaction or retention would delete versions that replays need; votes may not be stamped far in the future) ` +
          `and changing it failed: ${(err as Error).message}. ` +
          `Change it by hand (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ${wanted}) and run init again.`,
      );
    }
    return changes.map(([name, value]) => `${name}=${value}`);
  } finally {
    await admin.close();
  }
}
