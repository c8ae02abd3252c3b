/**
 * Rebuilds the DynamoDB hash chains from `votes-accepted` (DESIGN section 4: DynamoDB is rebuilt
 * from Kafka). A chain is a deterministic function of `votes-accepted`, so writing every record
 * again through the DynamoVoteSink gives the hashes the lost chains had; the chain heads fence what
 * the table still holds, so a rebuild over an intact table writes nothing and is safe to repeat.
 *
 * Each partition is read from its beginning (read_committed) to the end offset current when the
 * rebuild starts, by its own sink instance opened on that partition. A missing table is recreated
 * first. With an election, only its records are written and the partitions' watermarks are left
 * alone (they claim every election's votes); with all elections the watermarks rise to what was
 * read, so the persist path resumes after it instead of replaying the partition again.
 *
 * Safe while the persist path runs: both write through the same fences and head conditions.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { forEachBounded } from '../sinks/bounded-parallel.js';
import { DynamoVoteSink } from './vote-log-sink.js';
import type { SinkRecord } from '../sinks/sink.js';
import { ensureTable } from './provision.js';
import { topicNames } from './topics.js';
import { decodeAcceptedVote, type AcceptedVote } from './vote.js';

export interface RebuildDynamoOptions {
  readonly driver: KafkaDriver;
  readonly dynamodb: DynamoDBClient;
  /** The `votestream-votes` table (with the prefix). */
  readonly tableName: string;
  /** Topic prefix (DESIGN section 3). */
  readonly prefix?: string;
  /** Only this election's chains; every election when absent. */
  readonly electionId?: string;
  /** Partitions rebuilt at once. Default 4. */
  readonly concurrency?: number;
  readonly logger?: Logger;
  /** Called with the records read so far (all partitions) and their total, as the rebuild goes. */
  readonly onProgress?: (read: number, total: number) => void;
}

export interface PartitionRebuildResult {
  readonly partition: number;
  /** Records read from `votes-accepted` (all elections). */
  readonly read: number;
  /** Records of the rebuilt election(s) that were missing and are now in the chains. */
  readonly applied: number;
  /** Records the chains already held. */
  readonly fenced: number;
  /** Records that are not accepted votes (the persist path dead-letters them too). */
  readonly undecodable: number;
}

export interface RebuildDynamoResult {
  readonly topic: string;
  readonly tableCreated: boolean;
  readonly partitions: PartitionRebuildResult[];
}

export async function rebuildDynamo(options: RebuildDynamoOptions): Promise<RebuildDynamoResult> {
  const topic = topicNames(options.prefix ?? '').votesAccepted;
  const recreate = async (client: DynamoDBClient, table: string): Promise<void> => {
    await ensureTable(client, table, { sortKey: true });
  };
  const tableCreated = (await ensureTable(options.dynamodb, options.tableName, { sortKey: true })) === 'created';
  if (tableCreated) options.logger?.warn({ table: options.tableName }, 'rebuild dynamodb: the table was missing and was created empty');

  const admin = options.driver.createAdmin({ clientId: 'votestream-rebuild-dynamodb' });
  let partitionCount: number;
  let total = 0;
  let begin: Map<number, bigint>;
  try {
    partitionCount = (await admin.partitionCounts([topic])).get(topic) ?? 0;
    begin = new Map((await admin.beginningOffsets([topic])).map((o) => [o.partition, o.offset]));
  } finally {
    await admin.close();
  }
  const partitions = Array.from({ length: partitionCount }, (_, p) => p);
  let read = 0;
  const results: PartitionRebuildResult[] = [];
  await forEachBounded(partitions, options.concurrency ?? 4, async (partition) => {
    const sink = new DynamoVoteSink({
      dynamodb: options.dynamodb,
      tableName: options.tableName,
      recreateLostTable: recreate,
      advanceWatermark: options.electionId === undefined,
      logger: options.logger,
    });
    const reader = await options.driver.createReader({
      partitions: [{ topic, partition, from: 'earliest' }],
      isolation: 'read_committed',
      clientId: 'votestream-rebuild-dynamodb',
    });
    const result = { partition, read: 0, applied: 0, fenced: 0, undecodable: 0 };
    try {
      await sink.open({ taskId: `rebuild-dynamodb-${partition}`, partition });
      const end = (await reader.endOffsets()).find((o) => o.partition === partition)?.offset ?? 0n;
      total += Number(end - (begin.get(partition) ?? 0n));
      options.onProgress?.(read, total);
      await reader.readToEnd(async (batch) => {
        const records: SinkRecord<string, AcceptedVote>[] = [];
        for (const r of batch) {
          result.read++;
          const decoded = decodeAcceptedVote(r.value);
          if (!decoded.ok) {
            result.undecodable++;
            options.logger?.warn({ partition, offset: r.offset.toString(), error: decoded.error }, 'rebuild dynamodb: not an accepted vote, skipped');
            continue;
          }
          if (options.electionId !== undefined && decoded.vote.electionId !== options.electionId) continue;
          records.push({ topic, partition, offset: Number(r.offset), timestamp: r.timestamp, key: decoded.vote.voterId, value: decoded.vote, headers: {} });
        }
        if (records.length > 0) {
          const w = await sink.writeBatch(records);
          result.applied += w.applied;
          result.fenced += w.fenced;
        }
        read += batch.length;
        options.onProgress?.(read, total);
      });
    } finally {
      await reader.close().catch(() => undefined);
      await sink.close();
    }
    options.logger?.info(result, 'rebuild dynamodb: partition done');
    results.push(result);
  });
  results.sort((a, b) => a.partition - b.partition);
  return { topic, tableCreated, partitions: results };
}
