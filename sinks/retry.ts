/**
 * Retrying a sink write: exponential backoff with full jitter, and a sleep that `close()` cuts short.
 * Sinks retry transient failures forever (a sink that gives up would stall its task with an error
 * the runtime can do nothing better about than retry); only closing the sink ends the loop.
 */
import { VotestreamError } from '../runtime/errors.js';

/** Thrown by a write (or open) still retrying when the sink is closed. */
export class SinkClosedError extends VotestreamError {
  constructor(sink: string) {
    super('SINK_CLOSED', `${sink} was closed while a write was still retrying`);
  }
}

export interface BackoffOptions {
  /** Delay cap of the first retry, in ms. */
  readonly baseMs: number;
  /** Delay cap of any retry, in ms. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 50, maxMs: 2_000 });

/**
 * Full jitter ("Exponential Backoff And Jitter", AWS architecture blog): a uniform delay in
 * [0, min(max, base * 2^attempt)]. Spreading retries uniformly keeps the writers of many tasks
 * from hammering a recovering service in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with `signal.reason` as soon as the signal aborts: a client
 * call that never settles (a command queued on a connection that was closed while reconnecting)
 * must not keep `close()` from ending a retry loop.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
