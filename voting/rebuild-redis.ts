/**
 * Rebuilds one election's live counts in Redis from the DynamoDB hash chains (DESIGN section 4:
 * "a sink's fences are its progress"). Counts, regions and fences are recomputed from each chain
 * up to its head (the head is the commit point of a chain write), then replace the Redis keys in
 * one MULTI, so a reader sees either the old state or the rebuilt one.
 *
 * The fences become the chain heads' `lastOffset`, so a VoteCountSink resuming afterwards
 * re-applies exactly what DynamoDB had not persisted yet (the count path usually runs ahead).
 * Run it while the count path of this election is stopped: a batch applied between the Query and
 * the MULTI would be overwritten, and re-applied only if its records are replayed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RedisClient } from '../sinks/redis-client.js';
import { InfrastructureError } from '../runtime/errors.js';
import { forEachBounded } from '../sinks/bounded-parallel.js';
import { readChain } from './vote-chain.js';
import { countsKey, offsetField, offsetsKey, regionField, regionsKey, TOTAL_FIELD } from './redis-keys.js';

export { readChain, chainItems, type ChainContents } from './vote-chain.js';

export interface RebuildRedisOptions {
  readonly dynamodb: DynamoDBClient;
  readonly redis: RedisClient;
  /** The `votestream-votes` table. */
  readonly tableName: string;
  readonly electionId: string;
  /** The partition count (chains 0..n-1) or the partitions to read. */
  readonly partitions: number | readonly number[];
  /** The deployment prefix in front of every Redis key (DESIGN section 3). Default none. */
  readonly prefix?: string;
}

export interface RebuildRedisResult {
  readonly total: number;
  /** candidateId -> count. */
  readonly counts: Record<string, number>;
  /** `region:candidateId` -> count. */
  readonly regions: Record<string, number>;
  /** partition -> fence, for the chains that have a head. */
  readonly offsets: Record<string, number>;
}

function bump(map: Record<string, number>, field: string): void {
  map[field] = (map[field] ?? 0) + 1;
}

export async function rebuildRedis(options: RebuildRedisOptions): Promise<RebuildRedisResult> {
  const { electionId } = options;
  const prefix = options.prefix ?? '';
  const partitions = typeof options.partitions === 'number' ? Array.from({ length: options.partitions }, (_, p) => p) : [...options.partitions];
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  const regions: Record<string, number> = Object.create(null) as Record<string, number>;
  const offsets: Record<string, number> = Object.create(null) as Record<string, number>;
  let total = 0;
  await forEachBounded(partitions, 4, async (partition) => {
    const { head, votes } = await readChain(options.dynamodb, options.tableName, electionId, partition);
    if (head === undefined) return;
    offsets[offsetField(partition)] = head.lastOffset;
    for (const vote of votes) {
      // Items beyond the head are not committed (the sink never leaves any; this is defence only).
      if (vote.seq > head.lastSeq) break;
      total++;
      bump(counts, vote.candidateId);
      if (vote.region !== undefined) bump(regions, regionField(vote.region, vote.candidateId));
    }
  });
  const keys = { counts: countsKey(electionId, prefix), regions: regionsKey(electionId, prefix), offsets: offsetsKey(electionId, prefix) };
  // The partitions' watermarks (`vs:watermarks`) are left alone: they only ever claim what the
  // count sink applied, and the count group is rewound below what DynamoDB covers anyway.
  const multi = options.redis.multi().del(keys.counts, keys.regions, keys.offsets);
  if (total > 0) multi.hset(keys.counts, { ...counts, [TOTAL_FIELD]: total });
  if (Object.keys(regions).length > 0) multi.hset(keys.regions, regions);
  if (Object.keys(offsets).length > 0) multi.hset(keys.offsets, offsets);
  const results = await multi.exec();
  const failed = results?.find(([err]) => err !== null);
  if (results === null) throw new InfrastructureError(`rebuildRedis: Redis discarded the MULTI of election ${electionId}`);
  if (failed) throw failed[0];
  return { total, counts: { ...counts }, regions: { ...regions }, offsets: { ...offsets } };
}
