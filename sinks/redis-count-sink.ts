/**
 * RedisCountSink: exactly-once counters in Redis for any records (DESIGN section 4). The
 * application gives a layout: each record's group (a Redis Cluster hash tag, e.g. an election), its
 * field increments, the key of each of a group's hashes, of its fence hash and of the watermarks
 * hash, an optional record-count field and an optional publish channel.
 *
 * One write = one Lua script call covering every group of the batch. It adds the batch's deltas to
 * the group's hashes only above the fence `<fence hash>[partition]`, moves the fence, publishes on
 * the group's channel and raises the partition's watermark, atomically (redis-count-script.ts). The
 * fences make every retry and every replay harmless, so the sink retries transient failures forever
 * with backoff until the write succeeds or it is closed.
 *
 * Lost state (DESIGN section 4): the sink remembers the watermark of each partition it saw (read at
 * open, then raised by its own writes). A Redis that restarted empty, rolled back its AOF, was
 * flushed or failed over to a stale replica holds a lower or no watermark: the script then writes
 * nothing and the write throws SinkStateLostError. The runtime reopens the task; `open()` reports
 * the watermark Redis really holds, and the task replays from just after it (from the beginning of
 * the partition when it is gone), the surviving fences skipping what Redis still has.
 *
 * On a Redis Cluster (the client is an ioredis Cluster) a script may touch one slot only, so a write
 * is one call per group, each with the group's own watermark hash (`layout.cluster`), then one call
 * per partition raising its progress hash; how that keeps the watermark's two jobs is told in
 * redis-count-progress.ts. The group calls of one batch run in parallel.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { InfrastructureError, SinkStateLostError } from '../runtime/errors.js';
import { aggregateDeltas, filterAboveFence, type DeltaLayout, type GroupDeltas } from './count-deltas.js';
import { COUNT_SCRIPT, COUNT_SCRIPT_SHA, countScriptArgs, parseCountScriptReply, type ScriptLayoutArg, type WatermarkArg } from './redis-count-script.js';
import { isRedisCluster, type RedisClient } from './redis-client.js';
import { createSinkRedisClient, isNoScriptError, isTransientRedisError, redisInfrastructureError } from './redis-connection.js';
import {
  appliedThroughOf,
  parseProgressHash,
  parseProgressReply,
  PROGRESS_SCRIPT,
  PROGRESS_SCRIPT_SHA,
  progressScriptArgs,
} from './redis-count-progress.js';
import { backoffDelay, DEFAULT_BACKOFF, SinkClosedError, sleep, type BackoffOptions, abortable } from './retry.js';
import type { Sink, SinkProgress, SinkRecord, SinkTaskInfo } from './sink.js';
import { SinkMetrics } from './sink-metrics.js';

/** Where a layout's counters live in Redis; every key of a group must carry the group's hash tag. */
export interface RedisCountLayout<K, V> extends DeltaLayout<K, V> {
  /** The key of the group's hash named `hash` (one of `hashes`). */
  hashKey(group: string, hash: string): string;
  /** The key of the group's fence hash: `<partition>` -> last applied input offset. */
  fenceKey(group: string): string;
  /**
   * The hash `<partition>` -> highest input offset whose effects (on every group) are applied. It
   * is how the sink notices that Redis lost state and how far to replay (`SinkProgress`). Give each
   * input (and deployment) its own: two writers sharing one would hide each other's losses.
   * Single node only; a Redis Cluster uses `cluster` instead.
   */
  readonly watermarkKey: string;
  /** A field that grows by the number of applied records (e.g. a total), in one of `hashes`. */
  readonly recordCount?: { readonly hash: string; readonly field: string };
  /** Publishes one JSON message per applied group and write (see redis-count-script.ts). */
  readonly publish?: RedisCountPublish;
  /** Where the progress lives on a Redis Cluster; required there (redis-count-progress.ts). */
  readonly cluster?: RedisCountClusterLayout;
}

export interface RedisCountClusterLayout {
  /** The group's own watermark hash `<partition>` -> offset; it must carry the group's hash tag. */
  groupWatermarkKey(group: string): string;
  /** The partition's progress hash, in a slot of its own (give each input and deployment its own). */
  progressKey(partition: number): string;
}

export interface RedisCountPublish {
  channel(group: string): string;
  /** The message's name for the group id. Default `group`. */
  readonly groupField?: string;
  /** The message's name for the number of records applied. Default `records`. */
  readonly recordsField?: string;
  /** The hash whose deltas the message carries, if any. */
  readonly deltasOf?: string;
  /** The message's name for those deltas. Default `deltas`. */
  readonly deltasField?: string;
}

export interface RedisCountSinkOptions<K, V> {
  /** A URL (the sink opens and closes its own connection) or a client the caller owns and closes. */
  readonly redis: string | RedisClient;
  readonly layout: RedisCountLayout<K, V>;
  /** How logs and errors name the sink. Default `redis count sink`. */
  readonly name?: string;
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


export class RedisCountSink<K, V> implements Sink<K, V> {
  private readonly client: RedisClient;
  /** Set on a Redis Cluster: the write is then one call per group (see the top). */
  private readonly cluster: RedisCountClusterLayout | undefined;
  private readonly ownsClient: boolean;
  private readonly metrics: SinkMetrics;
  private readonly logger: Logger | undefined;
  private readonly backoff: BackoffOptions;
  private readonly closing = new AbortController();
  private readonly layout: RedisCountLayout<K, V>;
  private readonly scriptLayout: ScriptLayoutArg;
  private readonly name: string;
  private scriptLoaded = false;
  private taskId = '';
  /**
   * partition -> the watermark this sink last saw in Redis (null: none, and none expected); on a
   * cluster, the partition's progress `through`. A partition missing from the map was never opened
   * nor written by this sink: nothing is expected.
   */
  private readonly known = new Map<number, number | null>();
  /** Cluster only: `<partition>/<group>` -> the group's own watermark this sink last saw. */
  private readonly knownOfGroup = new Map<string, number | null>();

  constructor(options: RedisCountSinkOptions<K, V>) {
    this.ownsClient = typeof options.redis === 'string';
    this.client = typeof options.redis === 'string' ? createSinkRedisClient(options.redis) : options.redis;
    this.metrics = new SinkMetrics('redis', options.registry);
    this.logger = options.logger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.layout = options.layout;
    this.name = options.name ?? 'redis count sink';
    this.scriptLayout = scriptLayoutOf(options.layout);
    if (isRedisCluster(this.client)) {
      if (options.layout.cluster === undefined) throw new TypeError(`${this.name}: a Redis Cluster needs the layout's cluster keys (per-group watermarks, per-partition progress)`);
      this.cluster = options.layout.cluster;
    }
    if (this.ownsClient) {
      // Connection errors surface (and are retried) through the commands; without a listener ioredis
      // would also print every failed reconnect attempt as an unhandled error.
      this.client.on('error', (err: unknown) => this.logger?.debug({ err, task: this.taskId }, `${this.name}: connection error`));
    }
  }

  /** Reads the partition's watermark: how far Redis really holds this partition's effects. */
  async open(task: SinkTaskInfo): Promise<SinkProgress> {
    this.taskId = task.taskId;
    // Loading early surfaces a wrong address at open; a failure here is retried like a write.
    await this.retrying(() => this.loadScript());
    if (this.cluster !== undefined) return this.openOnCluster(this.cluster, task.partition);
    let stored: string | null = null;
    await this.retrying(async () => {
      stored = await this.client.hget(this.layout.watermarkKey, String(task.partition));
    });
    const appliedThrough = stored === null ? null : Number(stored);
    if (appliedThrough !== null && !Number.isSafeInteger(appliedThrough)) {
      throw new InfrastructureError(`${this.name}: watermark of partition ${task.partition} is ${JSON.stringify(stored)}, not an offset`);
    }
    this.known.set(task.partition, appliedThrough);
    return { appliedThrough };
  }

  async write(batch: readonly SinkRecord<K, V>[]): Promise<void> {
    await this.writeBatch(batch);
  }

  /** `write`, returning what it did. */
  async writeBatch(batch: readonly SinkRecord<K, V>[]): Promise<CountWriteResult> {
    this.throwIfClosed();
    this.metrics.batches.inc();
    const stopTimer = this.metrics.writeSeconds.startTimer();
    const raiseTo = new Map<number, number>();
    for (const r of batch) raiseTo.set(r.partition, Math.max(raiseTo.get(r.partition) ?? -1, r.offset));
    let result: CountWriteResult;
    try {
      const pending = aggregateDeltas(this.layout, batch);
      result = this.cluster === undefined ? await this.applyCall(this.layout.watermarkKey, pending, raiseTo, this.known, (p) => p) : await this.writeOnCluster(this.cluster, pending, raiseTo);
    } finally {
      stopTimer();
    }
    this.metrics.applied.inc(result.applied);
    this.metrics.fenced.inc(result.fenced);
    return result;
  }

  /**
   * One script call (retried, re-cut after a straddled fence) applying `pending` with the watermarks
   * of `watermarkKey`; `known` holds what this sink last saw of them, under `knownKey(partition)`.
   */
  private async applyCall<Key>(
    watermarkKey: string,
    initial: GroupDeltas<K, V>[],
    raiseTo: ReadonlyMap<number, number>,
    knownMap: Map<Key, number | null>,
    knownKey: (partition: number) => Key,
  ): Promise<CountWriteResult> {
    let applied = 0;
    let fenced = 0;
    let retries = 0;
    let pending = initial;
    while (pending.length > 0) {
      this.throwIfClosed();
      const watermarks: WatermarkArg[] = [...raiseTo].map(([partition, to]) => ({ partition, known: knownMap.get(knownKey(partition)) ?? null, raiseTo: to }));
      let reply: unknown;
      try {
        reply = await abortable(this.callScript(watermarkKey, watermarks, pending), this.closing.signal);
      } catch (err) {
        this.throwIfClosed();
        if (isNoScriptError(err)) {
          // Redis restarted (or SCRIPT FLUSH): the script cache is empty. Reload, then resend.
          this.scriptLoaded = false;
          await this.retrying(() => this.loadScript());
          continue;
        }
        if (!isTransientRedisError(err)) throw redisInfrastructureError(err, `${this.name} ${this.taskId}: count script`);
        this.logger?.warn({ err, task: this.taskId, attempt: retries }, `${this.name}: transient failure, retrying`);
        this.metrics.retries.inc();
        await sleep(backoffDelay(retries++, this.backoff), this.closing.signal);
        continue;
      }
      const parsed = parseCountScriptReply(reply);
      if (parsed.kind === 'lost') {
        const expected = knownMap.get(knownKey(parsed.partition));
        const what = this.cluster === undefined ? 'nothing of this batch was applied' : `nothing of group ${JSON.stringify(pending[0]?.group)} was applied`;
        throw new SinkStateLostError(
          `${this.name} ${this.taskId}: Redis lost counted state of partition ${parsed.partition}: its watermark is ` +
            `${parsed.stored ?? 'gone'}, this sink saw ${expected ?? 'none'}; ${what}`,
        );
      }
      if (parsed.kind === 'done') {
        applied += parsed.applied;
        fenced += parsed.skipped;
        for (const w of watermarks) knownMap.set(knownKey(w.partition), Math.max(w.known ?? -1, w.raiseTo ?? -1));
        break;
      }
      // A replay cut differently: keep only what is above the fences the script reported.
      const next: GroupDeltas<K, V>[] = [];
      pending.forEach((deltas, i) => {
        const fences = parsed.fences.get(i);
        if (fences === undefined) {
          next.push(deltas);
          return;
        }
        const kept = filterAboveFence(this.layout, deltas, fences);
        fenced += kept.dropped;
        if (kept.deltas.segments.length > 0) next.push(kept.deltas);
      });
      pending = next;
    }
    return { applied, fenced, retries };
  }

  /**
   * Cluster: each group in its own call with its own watermarks (in parallel), then, once all are
   * applied, each partition's progress (redis-count-progress.ts). A group that reports lost state
   * fails the write; the groups applied meanwhile are fenced, so the replay skips them.
   */
  private async writeOnCluster(cluster: RedisCountClusterLayout, pending: GroupDeltas<K, V>[], raiseTo: ReadonlyMap<number, number>): Promise<CountWriteResult> {
    const settled = await Promise.allSettled(
      pending.map((deltas) => this.applyCall(cluster.groupWatermarkKey(deltas.group), [deltas], raiseTo, this.knownOfGroup, (p) => groupKnownKey(p, deltas.group))),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const results = settled.map((s) => (s as PromiseFulfilledResult<CountWriteResult>).value);
    await Promise.all(
      [...raiseTo].map(async ([partition, through]) => {
        const groups = new Map<string, number>();
        for (const deltas of pending) if (deltas.records.some((r) => r.partition === partition)) groups.set(deltas.group, through);
        const known = this.known.get(partition) ?? null;
        let reply: unknown;
        const key = cluster.progressKey(partition);
        await this.retrying(async () => {
          reply = await this.evalOnCluster(PROGRESS_SCRIPT_SHA, PROGRESS_SCRIPT, [key], progressScriptArgs(known, through, groups));
        });
        const parsed = parseProgressReply(reply);
        if (parsed.lost) {
          throw new SinkStateLostError(
            `${this.name} ${this.taskId}: Redis lost the count progress of partition ${partition} (${key}): it holds ` +
              `${parsed.stored ?? 'none'}, this sink saw ${known ?? 'none'}; the batch's groups were applied, their fences skip them on replay`,
          );
        }
        this.known.set(partition, Math.max(known ?? -1, through));
      }),
    );
    return results.reduce((a, r) => ({ applied: a.applied + r.applied, fenced: a.fenced + r.fenced, retries: a.retries + r.retries }), { applied: 0, fenced: 0, retries: 0 });
  }

  /** Cluster: the partition's progress, then each listed group's own watermark (redis-count-progress.ts). */
  private async openOnCluster(cluster: RedisCountClusterLayout, partition: number): Promise<SinkProgress> {
    let hash: Record<string, string> = {};
    await this.retrying(async () => {
      hash = await this.client.hgetall(cluster.progressKey(partition));
    });
    const progress = parseProgressHash(hash);
    const watermarks = new Map<string, number | null>();
    await Promise.all(
      [...progress.groups.keys()].map(async (group) => {
        let stored: string | null = null;
        await this.retrying(async () => {
          stored = await this.client.hget(cluster.groupWatermarkKey(group), String(partition));
        });
        watermarks.set(group, stored === null ? null : Number(stored));
      }),
    );
    for (const [group, watermark] of watermarks) this.knownOfGroup.set(groupKnownKey(partition, group), watermark);
    this.known.set(partition, progress.through);
    const { appliedThrough, lost } = appliedThroughOf(progress, watermarks);
    if (lost.length > 0) {
      this.logger?.warn({ task: this.taskId, partition, lost, through: progress.through, appliedThrough }, `${this.name}: Redis lost counted state of ${lost.length} group(s); replaying from the last offset they hold`);
    }
    return { appliedThrough };
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

  /** One EVALSHA: the watermarks key, then each group's hashes and fence hash. */
  private callScript(watermarkKey: string, watermarks: readonly WatermarkArg[], pending: readonly GroupDeltas<K, V>[]): Promise<unknown> {
    const { layout } = this;
    const keys = [watermarkKey, ...pending.flatMap((d) => [...layout.hashes.map((h) => layout.hashKey(d.group, h)), layout.fenceKey(d.group)])];
    const args = countScriptArgs(
      watermarks,
      this.scriptLayout,
      pending.map((d) => ({ channel: layout.publish?.channel(d.group) ?? '', group: d.group, segments: d.segments })),
    );
    if (this.cluster !== undefined) return this.evalOnCluster(COUNT_SCRIPT_SHA, COUNT_SCRIPT, keys, args);
    return this.client.evalsha(COUNT_SCRIPT_SHA, keys.length, ...keys, ...args);
  }

  /**
   * EVALSHA on the node of the keys' slot; a node whose script cache is empty (restarted, or new
   * since open loaded the scripts on every master) gets the script by EVAL, which also caches it.
   */
  private async evalOnCluster(sha: string, script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScriptError(err)) throw err;
      return this.client.eval(script, keys.length, ...keys, ...args);
    }
  }

  private async loadScript(): Promise<void> {
    if (this.scriptLoaded) return;
    if (isRedisCluster(this.client)) {
      // SCRIPT LOAD has no key: it would reach one random node. Every master gets both scripts.
      await Promise.all(this.client.nodes('master').map((node) => Promise.all([node.script('LOAD', COUNT_SCRIPT), node.script('LOAD', PROGRESS_SCRIPT)])));
      this.scriptLoaded = true;
      return;
    }
    const sha = await this.client.script('LOAD', COUNT_SCRIPT);
    if (sha !== COUNT_SCRIPT_SHA) throw new InfrastructureError(`SCRIPT LOAD returned ${String(sha)}, expected ${COUNT_SCRIPT_SHA}`);
    this.scriptLoaded = true;
  }

  private async retrying(op: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      try {
        await abortable(op(), this.closing.signal);
        return;
      } catch (err) {
        if (!isTransientRedisError(err)) throw redisInfrastructureError(err, `${this.name} ${this.taskId}`);
        this.metrics.retries.inc();
        await sleep(backoffDelay(attempt, this.backoff), this.closing.signal);
      }
    }
  }

  private throwIfClosed(): void {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
  }
}

function groupKnownKey(partition: number, group: string): string {
  return `${partition}/${group}`;
}

function scriptLayoutOf<K, V>(layout: RedisCountLayout<K, V>): ScriptLayoutArg {
  const index = (hash: string | undefined): number => {
    if (hash === undefined) return 0;
    const i = layout.hashes.indexOf(hash);
    if (i < 0) throw new TypeError(`hash ${JSON.stringify(hash)} is not one of the layout's ${JSON.stringify(layout.hashes)}`);
    return i + 1;
  };
  return {
    hashes: layout.hashes.length,
    totalHash: index(layout.recordCount?.hash),
    totalField: layout.recordCount?.field ?? '',
    publishHash: index(layout.publish?.deltasOf),
    groupName: layout.publish?.groupField ?? 'group',
    recordsName: layout.publish?.recordsField ?? 'records',
    deltasName: layout.publish?.deltasField ?? 'deltas',
  };
}
