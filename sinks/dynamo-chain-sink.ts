/**
 * DynamoChainSink: an append-only, hash-chained, exactly-once log in DynamoDB for any records
 * (DESIGN sections 3 and 4). The application's ChainLayout says which chain a record is appended
 * to, the entry items' sort keys and attributes, and the hash preimage; the sink owns the chaining
 * (seq, prevHash, hash), the fence and the lost-state protocol.
 *
 * Each chain write is one TransactWriteItems: up to 98 entry Puts (`attribute_not_exists(pk)`) and
 * the head Put conditioned on the head the hashes were computed from. The head's `lastOffset` is the
 * fence: records at or below it are skipped. When the condition fails (a replay after a crash, a
 * replay cut into other batches, or a zombie writer that got there first) the sink re-reads the
 * head, skips what it covers and continues from it, so a chain never forks and no record is written
 * twice. Chains are written in parallel (bounded); the order within a chain is the input order.
 *
 * Lost state (DESIGN section 4). Each partition has a watermark item (chain-items.ts): created at
 * open with -1 when absent, raised after every batch whose chains are all written, never before.
 * Every chain transaction carries a ConditionCheck that the watermark is still at least what this
 * sink last saw, so a table that was emptied or recreated (DynamoDB Local restarted in memory)
 * refuses the write before any entry lands; a head that moves backwards or a table that vanished
 * means the same. Each throws SinkStateLostError: the runtime reopens the task, `open()` reports
 * the watermark the table really holds (recreating a vanished table when allowed), and the task
 * replays from there. A chain is a deterministic function of its input, so the replay rebuilds the
 * same hashes.
 */
import { GetItemCommand, PutItemCommand, TransactWriteItemsCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Registry } from 'prom-client';
import { dynamoClient } from '../infra/dynamo-client.js';
import { InfrastructureError, SinkStateLostError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { forEachBounded } from './bounded-parallel.js';
import {
  buildEntries,
  chainTransaction,
  decodeHead,
  decodeWatermark,
  isReservedChainKey,
  MAX_ENTRIES_PER_TRANSACTION,
  stateAfter,
  watermarkGuardFailed,
  watermarkKey,
  type ChainLayout,
  type ChainState,
} from './chain-items.js';
import { UnfenceableRecordError } from './count-deltas.js';
import { classifyDynamoError } from './dynamo-errors.js';
import { backoffDelay, DEFAULT_BACKOFF, SinkClosedError, sleep, type BackoffOptions } from './retry.js';
import type { Sink, SinkProgress, SinkRecord, SinkTaskInfo } from './sink.js';
import { SinkMetrics } from './sink-metrics.js';

export interface DynamoChainSinkOptions<K, V> {
  /** An endpoint (the sink creates and destroys its own client) or a client the caller owns. */
  readonly dynamodb: string | DynamoDBClient;
  /** The table, with string keys `pk` and `sk`. */
  readonly tableName: string;
  readonly layout: ChainLayout<K, V>;
  /** How logs and errors name the sink. Default `dynamo chain sink`. */
  readonly name?: string;
  /** Chains written in parallel. Default 8. */
  readonly concurrency?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
  /**
   * Called by `open()` when the table does not exist, to create it empty; the partition then
   * replays from its beginning. Without it, a missing table fails `open()` (InfrastructureError).
   */
  readonly recreateLostTable?: (client: DynamoDBClient, table: string) => Promise<void>;
  /**
   * Raise the partitions' watermarks after each batch (default true). A writer that sees only part
   * of a partition's records (a rebuild of some chains) must not: the watermark would claim the
   * other chains' records too.
   */
  readonly advanceWatermark?: boolean;
}

export interface ChainWriteResult {
  readonly applied: number;
  readonly fenced: number;
  /** Transactions retried after a transient failure. */
  readonly retries: number;
  /** Transactions refused by the head condition (the head was re-read). */
  readonly conflicts: number;
}

interface Chain<K, V> {
  readonly key: string;
  readonly partition: number;
  readonly inputs: SinkRecord<K, V>[];
}

export class DynamoChainSink<K, V> implements Sink<K, V> {
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly table: string;
  private readonly layout: ChainLayout<K, V>;
  private readonly name: string;
  private readonly concurrency: number;
  private readonly metrics: SinkMetrics;
  private readonly logger: Logger | undefined;
  private readonly backoff: BackoffOptions;
  private readonly closing = new AbortController();
  /** Last known head per chain pk; read (consistently) on first use, then moved by our own writes. */
  private readonly heads = new Map<string, ChainState>();
  private taskId = '';
  /**
   * partition -> the watermark this sink last saw (opened partitions only). Chain writes of other
   * partitions are not guarded and do not move any watermark.
   */
  private readonly watermarks = new Map<number, number>();
  private readonly recreateLostTable: ((client: DynamoDBClient, table: string) => Promise<void>) | undefined;
  private readonly advanceWatermark: boolean;

  constructor(options: DynamoChainSinkOptions<K, V>) {
    this.ownsClient = typeof options.dynamodb === 'string';
    this.client = typeof options.dynamodb === 'string' ? dynamoClient(options.dynamodb) : options.dynamodb;
    this.table = options.tableName;
    this.layout = options.layout;
    this.name = options.name ?? 'dynamo chain sink';
    this.concurrency = options.concurrency ?? 8;
    this.metrics = new SinkMetrics('dynamodb', options.registry);
    this.logger = options.logger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.recreateLostTable = options.recreateLostTable;
    this.advanceWatermark = options.advanceWatermark ?? true;
  }

  /** Reads (creating it at -1 when absent) the partition's watermark: how far the table holds it. */
  async open(task: SinkTaskInfo): Promise<SinkProgress> {
    this.taskId = task.taskId;
    // A new owner must not trust heads cached by anyone: they are read on first use of each chain.
    this.heads.clear();
    const watermark = await this.openWatermark(task.partition);
    this.watermarks.set(task.partition, watermark);
    return { appliedThrough: watermark < 0 ? null : watermark };
  }

  async write(batch: readonly SinkRecord<K, V>[]): Promise<void> {
    await this.writeBatch(batch);
  }

  /** `write`, returning what it did. */
  async writeBatch(batch: readonly SinkRecord<K, V>[]): Promise<ChainWriteResult> {
    this.throwIfClosed();
    this.metrics.batches.inc();
    const stopTimer = this.metrics.writeSeconds.startTimer();
    const total = { applied: 0, fenced: 0, retries: 0, conflicts: 0 };
    try {
      await forEachBounded(chainsOf(this.layout, batch), this.concurrency, async (chain) => {
        const r = await this.writeChain(chain);
        total.applied += r.applied;
        total.fenced += r.fenced;
        total.retries += r.retries;
        total.conflicts += r.conflicts;
      });
      if (this.advanceWatermark) {
        const tops = new Map<number, number>();
        for (const r of batch) if (this.watermarks.has(r.partition)) tops.set(r.partition, Math.max(tops.get(r.partition) ?? -1, r.offset));
        for (const [partition, top] of tops) await this.raiseWatermark(partition, top);
      }
    } finally {
      stopTimer();
      this.metrics.applied.inc(total.applied);
      this.metrics.fenced.inc(total.fenced);
    }
    return total;
  }

  /** Every write is durable when it returns: nothing to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new SinkClosedError(this.constructor.name));
    if (this.ownsClient) this.client.destroy();
  }

  private async writeChain(chain: Chain<K, V>): Promise<ChainWriteResult> {
    const { key: pk, partition } = chain;
    let state = this.heads.get(pk) ?? (await this.readHead(pk));
    let inputs = chain.inputs;
    let applied = 0;
    let fenced = 0;
    let retries = 0;
    let conflicts = 0;
    let attempt = 0;
    let consecutiveConflicts = 0;
    for (;;) {
      this.throwIfClosed();
      // The fence: inputs are in offset order, so what the head covers is a prefix.
      const fence = state.lastOffset;
      const firstAbove = inputs.findIndex((input) => input.offset > fence);
      const skip = firstAbove === -1 ? inputs.length : firstAbove;
      fenced += skip;
      inputs = inputs.slice(skip);
      if (inputs.length === 0) break;
      const chunk = inputs.slice(0, MAX_ENTRIES_PER_TRANSACTION);
      const links = buildEntries(this.layout, pk, state, chunk);
      const known = this.watermarks.get(partition);
      const actions = chainTransaction(this.table, this.layout, state, links, known === undefined ? undefined : { partition, known });
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: actions }), { abortSignal: this.closing.signal });
      } catch (err) {
        this.throwIfClosed();
        // Whatever happened, the cached head may be stale now: re-read it on the next write.
        this.heads.delete(pk);
        if (known !== undefined && watermarkGuardFailed(err, actions.length)) {
          throw new SinkStateLostError(
            `${this.name} ${this.taskId}: the watermark of partition ${partition} in ${this.table} is gone or below ${known}: ` +
              'the table lost entries this sink saw written; nothing of this transaction was applied',
            { cause: err },
          );
        }
        const kind = this.classify(err, `chain ${pk}`);
        if (kind === 'conflict') {
          conflicts++;
          // A head another writer moved is worth re-reading at once; a conflict that persists is
          // not (the head did not move, or keeps losing the race): back off before the next try.
          if (consecutiveConflicts > 0) {
            this.logger?.warn({ task: this.taskId, chain: pk, lastSeq: state.lastSeq, conflicts: consecutiveConflicts }, `${this.name}: head condition keeps failing, backing off`);
            await sleep(backoffDelay(consecutiveConflicts - 1, this.backoff), this.closing.signal);
          } else {
            this.logger?.debug({ task: this.taskId, chain: pk, lastSeq: state.lastSeq }, `${this.name}: head moved, re-reading it`);
          }
          consecutiveConflicts++;
          const reread = await this.readHead(pk);
          if (reread.lastSeq < state.lastSeq) {
            throw new SinkStateLostError(
              `${this.name} ${this.taskId}: chain ${pk} in ${this.table} went back from seq ${state.lastSeq} to ${reread.lastSeq}: the table lost entries`,
            );
          }
          state = reread;
          this.heads.set(pk, state);
          continue;
        }
        retries++;
        this.metrics.retries.inc();
        this.logger?.warn({ err, task: this.taskId, chain: pk, attempt }, `${this.name}: transient failure, retrying`);
        await sleep(backoffDelay(attempt++, this.backoff), this.closing.signal);
        continue;
      }
      attempt = 0;
      consecutiveConflicts = 0;
      state = stateAfter(state, links);
      this.heads.set(pk, state);
      applied += chunk.length;
      inputs = inputs.slice(chunk.length);
    }
    return { applied, fenced, retries, conflicts };
  }

  /**
   * Transient failures are for the caller to retry and conflicts to resolve; anything else is an
   * infrastructure failure the runtime must handle by replaying, never by dead-lettering: a vanished
   * table is lost state, the rest (ValidationException, ExpiredToken, AccessDenied...) a refusal.
   */
  private classify(err: unknown, what: string): 'conflict' | 'transient' {
    const kind = classifyDynamoError(err);
    if (kind !== 'fatal') return kind;
    if (err instanceof Error && err.name === 'ResourceNotFoundException') {
      throw new SinkStateLostError(`${this.name} ${this.taskId}: table ${this.table} is gone (${what})`, { cause: err });
    }
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new InfrastructureError(`${this.name} ${this.taskId}: DynamoDB refused ${what}: ${message}`, { cause: err });
  }

  /** The chain's head by a consistent read (an eventually consistent one could be behind the fence). */
  private async readHead(pk: string): Promise<ChainState> {
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      try {
        const out = await this.client.send(
          new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk }, sk: { S: this.layout.headSk } }, ConsistentRead: true }),
          { abortSignal: this.closing.signal },
        );
        return decodeHead(out.Item);
      } catch (err) {
        this.throwIfClosed();
        if (this.classify(err, `reading the head of ${pk}`) === 'conflict') throw new InfrastructureError(`${this.name}: a GetItem reported a condition failure`, { cause: err });
        this.metrics.retries.inc();
        await sleep(backoffDelay(attempt, this.backoff), this.closing.signal);
      }
    }
  }

  /** Reads the watermark item consistently; undefined when absent. */
  private async readWatermark(partition: number): Promise<number | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: watermarkKey(partition), ConsistentRead: true }), {
      abortSignal: this.closing.signal,
    });
    return decodeWatermark(out.Item);
  }

  /** One DynamoDB call of the watermark protocol, with transient failures retried and a missing table left to `onMissingTable`. */
  private async watermarkCall<T>(what: string, op: () => Promise<T>, onMissingTable: (err: unknown) => Promise<void>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      try {
        return await op();
      } catch (err) {
        this.throwIfClosed();
        if (err instanceof Error && err.name === 'ResourceNotFoundException') {
          await onMissingTable(err);
          continue;
        }
        if (this.classify(err, what) === 'conflict') throw err;
        this.metrics.retries.inc();
        await sleep(backoffDelay(attempt, this.backoff), this.closing.signal);
      }
    }
  }

  private async openWatermark(partition: number): Promise<number> {
    const onMissingTable = async (err: unknown): Promise<void> => {
      if (this.recreateLostTable === undefined) throw new InfrastructureError(`${this.name} ${this.taskId}: table ${this.table} does not exist`, { cause: err });
      this.logger?.warn({ task: this.taskId, table: this.table }, `${this.name}: the table is gone; recreating it empty, the partition replays from its beginning`);
      await this.recreateLostTable(this.client, this.table);
    };
    for (;;) {
      const stored = await this.watermarkCall(`reading the watermark of partition ${partition}`, () => this.readWatermark(partition), onMissingTable);
      if (stored !== undefined) return stored;
      // -1 claims nothing, so it may be written before any entry: from now on every chain write of the
      // partition requires it, and a table that loses it refuses them.
      try {
        await this.watermarkCall(
          `creating the watermark of partition ${partition}`,
          () =>
            this.client.send(
              new PutItemCommand({ TableName: this.table, Item: { ...watermarkKey(partition), lastOffset: { N: '-1' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
              { abortSignal: this.closing.signal },
            ),
          onMissingTable,
        );
        return -1;
      } catch (err) {
        // Another owner created it in between: read what it holds.
        if (classifyDynamoError(err) !== 'conflict') throw err;
      }
    }
  }

  /** Raises the partition's watermark to `top` once every chain of the batch is written; never lowers it. */
  private async raiseWatermark(partition: number, top: number): Promise<void> {
    const known = this.watermarks.get(partition);
    if (known === undefined || known >= top) return;
    const lost = (stored: number | undefined, err?: unknown) =>
      new SinkStateLostError(
        `${this.name} ${this.taskId}: the watermark of partition ${partition} in ${this.table} is ${stored ?? 'gone'}, below ${known} that this sink saw: the table lost entries`,
        { cause: err },
      );
    const onMissingTable = (err: unknown): Promise<void> => Promise.reject(lost(undefined, err));
    try {
      await this.watermarkCall(
        `raising the watermark of partition ${partition}`,
        () =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: watermarkKey(partition),
              UpdateExpression: 'SET lastOffset = :top',
              ConditionExpression: 'lastOffset >= :known AND lastOffset < :top',
              ExpressionAttributeValues: { ':known': { N: String(known) }, ':top': { N: String(top) } },
            }),
            { abortSignal: this.closing.signal },
          ),
        onMissingTable,
      );
      this.watermarks.set(partition, top);
    } catch (err) {
      if (classifyDynamoError(err) !== 'conflict') throw err;
      const stored = await this.watermarkCall(`reading the watermark of partition ${partition}`, () => this.readWatermark(partition), onMissingTable);
      if (stored === undefined || stored < known) throw lost(stored, err);
      // Another writer of the partition (a zombie, a rebuild) got at least as far.
      this.watermarks.set(partition, stored);
    }
  }

  private throwIfClosed(): void {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
  }
}

/** Groups a batch by chain (first-seen order), each chain's inputs in offset order. */
export function chainsOf<K, V>(layout: ChainLayout<K, V>, batch: readonly SinkRecord<K, V>[]): Chain<K, V>[] {
  const chains = new Map<string, Chain<K, V>>();
  for (const record of batch) {
    if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
      throw new UnfenceableRecordError(`record at ${record.topic}[${record.partition}] has offset ${record.offset}; it cannot be fenced`);
    }
    const key = layout.chainKey(record);
    if (isReservedChainKey(key)) throw new UnfenceableRecordError(`chain key ${JSON.stringify(key)} collides with the watermark items`);
    let chain = chains.get(key);
    if (chain === undefined) chains.set(key, (chain = { key, partition: record.partition, inputs: [] }));
    // The head's lastOffset fences one partition's offsets; another partition's would be skipped or
    // would skip others.
    if (chain.partition !== record.partition) {
      throw new UnfenceableRecordError(`chain ${key} gets records of partitions ${chain.partition} and ${record.partition}; a chain takes one partition`);
    }
    chain.inputs.push(record);
  }
  // Records of a partition arrive in offset order; sorting is a cheap guard for callers that mix.
  for (const chain of chains.values()) chain.inputs.sort((a, b) => a.offset - b.offset);
  return [...chains.values()];
}
