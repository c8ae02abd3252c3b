/**
 * RedisCountSink: the live counts of the voting system (DESIGN sections 3 and 4).
 *
 * One write = one Lua script call per election in the batch, pipelined. Each call adds the batch's
 * deltas to `vs:{E}:counts` / `vs:{E}:regions` only above the fence `vs:{E}:offsets[partition]`,
 * moves the fence and publishes on `vs:{E}:updates`, atomically (redis-count-script.ts). The fence
 * makes every retry and every replay harmless, so the sink retries transient failures forever
 * with backoff until the write succeeds or the sink is closed.
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { countsKey, offsetsKey, regionsKey, updatesChannel } from '../voting/redis-keys.js';
import type { AcceptedVote } from '../voting/vote.js';
import { aggregateDeltas, filterAboveFence, type ElectionDeltas } from './count-deltas.js';
import { COUNT_SCRIPT, COUNT_SCRIPT_SHA, countScriptArgs, parseCountScriptReply } from './redis-count-script.js';
import { createSinkRedisClient, isNoScriptError, isTransientRedisError } from './redis-connection.js';
import { backoffDelay, DEFAULT_BACKOFF, SinkClosedError, sleep, type BackoffOptions, abortable } from './retry.js';
import type { Sink, SinkRecord, SinkTaskInfo } from './sink.js';
import { SinkMetrics } from './sink-metrics.js';

export interface RedisCountSinkOptions {
  /** A URL (the sink opens and closes its own connection) or a client the caller owns and closes. */
  readonly redis: string | Redis;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
}

/** What one write did, for tests and benchmarks (the metrics carry the same, summed). */
export interface CountWriteResult {
  readonly applied: number;
  readonly fenced: number;
  readonly retries: number;
}

type CallOutcome = { ok: true; reply: unknown } | { ok: false; error: unknown };

export class RedisCountSink implements Sink<string, AcceptedVote> {
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly metrics: SinkMetrics;
  private readonly logger: Logger | undefined;
  private readonly backoff: BackoffOptions;
  private readonly closing = new AbortController();
  private scriptLoaded = false;
  private taskId = '';

  constructor(options: RedisCountSinkOptions) {
    this.ownsClient = typeof options.redis === 'string';
    this.client = typeof options.redis === 'string' ? createSinkRedisClient(options.redis) : options.redis;
    this.metrics = new SinkMetrics('redis', options.registry);
    this.logger = options.logger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    if (this.ownsClient) {
      // Connection errors surface (and are retried) through the commands; without a listener ioredis
      // would also print every failed reconnect attempt as an unhandled error.
      this.client.on('error', (err: unknown) => this.logger?.debug({ err, task: this.taskId }, 'redis count sink: connection error'));
    }
  }

  async open(task: SinkTaskInfo): Promise<void> {
    this.taskId = task.taskId;
    // Loading early surfaces a wrong address at open; a failure here is retried like a write.
    await this.retrying(() => this.loadScript());
  }

  async write(batch: readonly SinkRecord<string, AcceptedVote>[]): Promise<void> {
    await this.writeBatch(batch);
  }

  /** `write`, returning what it did. */
  async writeBatch(batch: readonly SinkRecord<string, AcceptedVote>[]): Promise<CountWriteResult> {
    this.throwIfClosed();
    this.metrics.batches.inc();
    const stopTimer = this.metrics.writeSeconds.startTimer();
    let applied = 0;
    let fenced = 0;
    let retries = 0;
    let pending = aggregateDeltas(batch);
    try {
      while (pending.length > 0) {
        this.throwIfClosed();
        const outcomes = await abortable(this.callScripts(pending), this.closing.signal);
        const next: ElectionDeltas[] = [];
        let transient: unknown;
        let noScript = false;
        for (let i = 0; i < pending.length; i++) {
          const deltas = pending[i];
          const outcome = outcomes[i];
          if (!outcome.ok) {
            if (isNoScriptError(outcome.error)) noScript = true;
            else if (isTransientRedisError(outcome.error)) transient = outcome.error;
            else throw outcome.error;
            next.push(deltas);
            continue;
          }
          const reply = parseCountScriptReply(outcome.reply);
          if (reply.kind === 'done') {
            applied += reply.applied;
            fenced += reply.skipped;
            continue;
          }
          // A replay cut differently: keep only what is above the fences the script reported.
          const kept = filterAboveFence(deltas, reply.fences);
          fenced += kept.dropped;
          if (kept.deltas.segments.length > 0) next.push(kept.deltas);
        }
        pending = next;
        if (noScript) {
          // Redis restarted (or SCRIPT FLUSH): the script cache is empty. Reload, then resend.
          this.scriptLoaded = false;
          await this.retrying(() => this.loadScript());
        }
        if (transient !== undefined && pending.length > 0) {
          this.logger?.warn({ err: transient, task: this.taskId, attempt: retries }, 'redis count sink: transient failure, retrying');
          this.metrics.retries.inc();
          await sleep(backoffDelay(retries++, this.backoff), this.closing.signal);
        }
      }
    } finally {
      stopTimer();
    }
    this.metrics.applied.inc(applied);
    this.metrics.fenced.inc(fenced);
    return { applied, fenced, retries };
  }

  /** Every write is durable when it returns: nothing to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new SinkClosedError('RedisCountSink'));
    if (this.ownsClient) {
      // quit() waits for a reply; a disconnected client would never give one.
      if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
      else this.client.disconnect();
    }
  }

  /** One EVALSHA per election, in one pipeline; a failure of the whole pipeline fails every call. */
  private async callScripts(pending: readonly ElectionDeltas[]): Promise<CallOutcome[]> {
    const pipeline = this.client.pipeline();
    for (const d of pending) {
      const e = d.electionId;
      pipeline.evalsha(COUNT_SCRIPT_SHA, 3, countsKey(e), regionsKey(e), offsetsKey(e), ...countScriptArgs(updatesChannel(e), e, d.segments));
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      return pending.map((_, i) => {
        const [error, reply] = results[i] ?? [new Error('pipeline returned no result'), undefined];
        return error ? { ok: false, error } : { ok: true, reply };
      });
    } catch (error) {
      return pending.map(() => ({ ok: false, error }));
    }
  }

  private async loadScript(): Promise<void> {
    if (this.scriptLoaded) return;
    const sha = await this.client.script('LOAD', COUNT_SCRIPT);
    if (sha !== COUNT_SCRIPT_SHA) throw new Error(`SCRIPT LOAD returned ${String(sha)}, expected ${COUNT_SCRIPT_SHA}`);
    this.scriptLoaded = true;
  }

  private async retrying(op: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      try {
        await abortable(op(), this.closing.signal);
        return;
      } catch (err) {
        if (!isTransientRedisError(err)) throw err;
        this.metrics.retries.inc();
        await sleep(backoffDelay(attempt, this.backoff), this.closing.signal);
      }
    }
  }

  private throwIfClosed(): void {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
  }
}
