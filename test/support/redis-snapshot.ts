/** What Redis holds for one election (DESIGN section 3 keys), in HGETALL shape. */
import type { RedisClient } from '../../sinks/redis-client.js';
import { countsKey, offsetsKey, regionsKey } from '../../voting/redis-keys.js';

export interface RedisSnapshot {
  counts: Record<string, string>;
  regions: Record<string, string>;
  offsets: Record<string, string>;
}

/** `keyPrefix`: the deployment's prefix in front of every key (DESIGN section 3). */
export async function redisSnapshot(redis: RedisClient, electionId: string, keyPrefix = ''): Promise<RedisSnapshot> {
  const [counts, regions, offsets] = await Promise.all([
    redis.hgetall(keyPrefix + countsKey(electionId)),
    redis.hgetall(keyPrefix + regionsKey(electionId)),
    redis.hgetall(keyPrefix + offsetsKey(electionId)),
  ]);
  return { counts, regions, offsets };
}
