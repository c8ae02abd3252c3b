/** What Redis holds for one election (DESIGN section 3 keys, with the deployment prefix), as numbers. */
import type { RedisClient } from '../../sinks/redis-client.js';
import { countsKey, officialKey, regionsKey } from '../redis-keys.js';
import { readFailure } from './read-failure.js';

export interface RedisCounts {
  /** `vs:{E}:counts`: candidateId -> count, and `_total`. */
  readonly counts: Record<string, number>;
  /** `vs:{E}:regions`: `region:candidateId` -> count. */
  readonly regions: Record<string, number>;
  /** `vs:{E}:official` as stored (strings), or undefined when no result was published. */
  readonly official: Record<string, string> | undefined;
}

function numbers(hash: Record<string, string>): Record<string, number> {
  return Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, Number(v)]));
}

export async function readRedisCounts(redis: RedisClient, electionId: string, prefix: string): Promise<RedisCounts> {
  try {
    const [counts, regions, official] = await Promise.all([
      redis.hgetall(countsKey(electionId, prefix)),
      redis.hgetall(regionsKey(electionId, prefix)),
      redis.hgetall(officialKey(electionId, prefix)),
    ]);
    return { counts: numbers(counts), regions: numbers(regions), official: Object.keys(official).length > 0 ? official : undefined };
  } catch (err) {
    throw readFailure(`Redis keys of election ${electionId}`, err);
  }
}
