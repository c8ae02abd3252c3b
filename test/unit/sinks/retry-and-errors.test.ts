import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../../sinks/bounded-parallel.js';
import { classifyDynamoError } from '../../../sinks/dynamo-errors.js';
import { isNoScriptError, isTransientRedisError } from '../../../sinks/redis-connection.js';
import { backoffDelay, SinkClosedError, sleep } from '../../../sinks/retry.js';

function named(name: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(name);
  e.name = name;
  return Object.assign(e, extra);
}

describe('backoffDelay', () => {
  it('is full jitter under an exponential cap', () => {
    const opts = { baseMs: 50, maxMs: 2000 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts, () => 0.999999))).toEqual([49, 99, 199, 399, 1999]);
    expect(backoffDelay(5, opts, () => 0)).toBe(0);
  });

  it('sleep is cut short by close', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new SinkClosedError('X'));
    await expect(p).rejects.toBeInstanceOf(SinkClosedError);
  });
});

describe('error classification', () => {
  it('DynamoDB: conflicts, transient failures, fatal ones', () => {
    expect(classifyDynamoError(named('TransactionCanceledException', { $fault: 'client', CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] }))).toBe('conflict');
    expect(classifyDynamoError(named('TransactionCanceledException', { $fault: 'client', CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] }))).toBe('transient');
    expect(classifyDynamoError(named('ProvisionedThroughputExceededException', { $fault: 'client' }))).toBe('transient');
    expect(classifyDynamoError(named('InternalServerError', { $fault: 'server' }))).toBe('transient');
    expect(classifyDynamoError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classifyDynamoError(named('ValidationException', { $fault: 'client' }))).toBe('fatal');
    expect(classifyDynamoError(named('ResourceNotFoundException', { $fault: 'client' }))).toBe('fatal');
  });

  it('Redis: connection trouble and LOADING are transient, other replies are not', () => {
    expect(isTransientRedisError(new Error('Connection is closed.'))).toBe(true);
    expect(isTransientRedisError(named('MaxRetriesPerRequestError'))).toBe(true);
    expect(isTransientRedisError(Object.assign(named('ReplyError'), { message: 'LOADING Redis is loading the dataset in memory' }))).toBe(true);
    expect(isTransientRedisError(Object.assign(named('ReplyError'), { message: 'WRONGTYPE Operation against a key holding the wrong kind of value' }))).toBe(false);
    expect(isNoScriptError(Object.assign(named('ReplyError'), { message: 'NOSCRIPT No matching script.' }))).toBe(true);
  });
});

describe('forEachBounded', () => {
  it('never runs more than the limit at once and finishes every item even after a failure', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const run = forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (n === 2) throw new Error('boom');
      done.push(n);
    });
    await expect(run).rejects.toThrow('boom');
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 3, 4, 5, 6, 7]);
  });
});
