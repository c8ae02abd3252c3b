/**
 * The Redis connection a sink uses, and which Redis failures are worth retrying.
 *
 * The client reconnects forever (a count sink has nothing better to do while Redis is down), but a
 * queued command fails after a few reconnect attempts instead of waiting forever: the sink's own
 * retry loop then owns the wait, so it can count retries, log, and stop when the sink is closed.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Reconnect delay: exponential from 50 ms, capped at 1 s, plus jitter so many tasks do not sync up. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 5), 1_000) + Math.floor(Math.random() * 50);
}

export function createSinkRedisClient(url: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, {
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: 2,
    // Commands sent while connecting wait in the offline queue (bounded by maxRetriesPerRequest).
    enableOfflineQueue: true,
    connectionName: 'votestream-sink',
    ...overrides,
  });
}

/** Redis error replies that mean "try again later", not "this command is wrong". */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY', 'MOVED', 'ASK'];

export function isNoScriptError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * Transient: every failure that is not an error reply from Redis (connection closed or refused,
 * MaxRetriesPerRequestError, timeouts), plus the reply errors above. Any other reply error (a
 * WRONGTYPE, a script error) is a bug or a corrupted key, and retrying would only hide it.
 */
export function isTransientRedisError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name !== 'ReplyError') return true;
  return TRANSIENT_REPLIES.some((prefix) => err.message.startsWith(prefix));
}
