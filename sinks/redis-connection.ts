/**
 * The Redis connection a sink uses, and which Redis failures are worth retrying.
 *
 * The client reconnects forever (a count sink has nothing better to do while Redis is down), but a
 * queued command fails after a few reconnect attempts instead of waiting forever: the sink's own
 * retry loop then owns the wait, so it can count retries, log, and stop when the sink is closed.
 */
import { InfrastructureError } from '../runtime/errors.js';
import { createRedisClient, type RedisClient, type RedisClientOptions } from './redis-client.js';

/** Reconnect delay: exponential from 50 ms, capped at 1 s, plus jitter so many tasks do not sync up. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 5), 1_000) + Math.floor(Math.random() * 50);
}

export function createSinkRedisClient(url: string, overrides: RedisClientOptions = {}): RedisClient {
  return createRedisClient(url, {
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: 2,
    // Commands sent while connecting wait in the offline queue (bounded by maxRetriesPerRequest).
    enableOfflineQueue: true,
    connectionName: 'votestream-sink',
    ...overrides,
  });
}

/**
 * Redis error replies that mean "try again later", not "this command is wrong". READONLY is not one:
 * it means we now talk to a replica (a failover), whose data may be stale, so the runtime must
 * reopen the task and the sink re-read its watermark rather than retry blindly.
 */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'MOVED', 'ASK'];

export function isNoScriptError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * A Redis failure that is not worth retrying in place (OOM, MISCONF, READONLY, NOAUTH, WRONGTYPE, a
 * script error) as the InfrastructureError the runtime handles by replaying, never by dead-lettering.
 */
export function redisInfrastructureError(err: unknown, what: string): InfrastructureError {
  if (err instanceof InfrastructureError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InfrastructureError(`${what}: Redis refused: ${message}`, { cause: err });
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
