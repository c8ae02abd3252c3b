/**
 * DynamoVoteSink: the audit trail of the voting system (DESIGN sections 3 and 4). Each accepted vote
 * is appended to the hash chain of its (election, `votes-accepted` partition).
 *
 * Each chain write is one TransactWriteItems: up to 99 vote Puts (`attribute_not_exists(pk)`) and
 * the head Put conditioned on the head the hashes were computed from. The head's `lastOffset` is the
 * fence: records at or below it are skipped. When the condition fails (a replay after a crash, a
 * replay cut into other batches, or a zombie writer that got there first) the sink re-reads the
 * head, skips what it covers and continues from it, so a chain never forks and no vote is written
 * twice. Chains are written in parallel (bounded); the order within a chain is the input order.
 */
import { GetItemCommand, TransactWriteItemsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Registry } from 'prom-client';
import { dynamoClient } from '../infra/dynamo-client.js';
import type { Logger } from '../runtime/logger.js';
import { chainPk, HEAD_SK } from '../voting/hash-chain.js';
import type { AcceptedVote } from '../voting/vote.js';
import { forEachBounded } from './bounded-parallel.js';
import {
  buildLinks,
  chainTransaction,
  decodeHead,
  MAX_VOTES_PER_TRANSACTION,
  stateAfter,
  type ChainInput,
  type ChainState,
} from './chain-items.js';
import { UnfenceableRecordError } from './count-deltas.js';
import { classifyDynamoError } from './dynamo-errors.js';
import { backoffDelay, DEFAULT_BACKOFF, SinkClosedError, sleep, type BackoffOptions } from './retry.js';
import type { Sink, SinkRecord, SinkTaskInfo } from './sink.js';
import { SinkMetrics } from './sink-metrics.js';

export interface DynamoVoteSinkOptions {
  /** An endpoint (the sink creates and destroys its own client) or a client the caller owns. */
  readonly dynamodb: string | DynamoDBClient;
  /** The `votestream-votes` table (with the prefix, see `tableNames`). */
  readonly tableName: string;
  /** Chains written in parallel. Default 8. */
  readonly concurrency?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
}

export interface VoteWriteResult {
  readonly applied: number;
  readonly fenced: number;
  /** Transactions retried after a transient failure. */
  readonly retries: number;
  /** Transactions refused by the head condition (the head was re-read). */
  readonly conflicts: number;
}

interface Chain {
  readonly electionId: string;
  readonly partition: number;
  readonly inputs: ChainInput[];
}

export class DynamoVoteSink implements Sink<string, AcceptedVote> {
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly table: string;
  private readonly concurrency: number;
  private readonly metrics: SinkMetrics;
  private readonly logger: Logger | undefined;
  private readonly backoff: BackoffOptions;
  private readonly closing = new AbortController();
  /** Last known head per chain pk; read (consistently) on first use, then moved by our own writes. */
  private readonly heads = new Map<string, ChainState>();
  private taskId = '';

  constructor(options: DynamoVoteSinkOptions) {
    this.ownsClient = typeof options.dynamodb === 'string';
    this.client = typeof options.dynamodb === 'string' ? dynamoClient(options.dynamodb) : options.dynamodb;
    this.table = options.tableName;
    this.concurrency = options.concurrency ?? 8;
    this.metrics = new SinkMetrics('dynamodb', options.registry);
    this.logger = options.logger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async open(task: SinkTaskInfo): Promise<void> {
    this.taskId = task.taskId;
    // A new owner must not trust heads cached by anyone: they are read on first use of each chain.
    this.heads.clear();
  }

  async write(batch: readonly SinkRecord<string, AcceptedVote>[]): Promise<void> {
    await this.writeBatch(batch);
  }

  /** `write`, returning what it did. */
  async writeBatch(batch: readonly SinkRecord<string, AcceptedVote>[]): Promise<VoteWriteResult> {
    this.throwIfClosed();
    this.metrics.batches.inc();
    const stopTimer = this.metrics.writeSeconds.startTimer();
    const total = { applied: 0, fenced: 0, retries: 0, conflicts: 0 };
    try {
      await forEachBounded(chainsOf(batch), this.concurrency, async (chain) => {
        const r = await this.writeChain(chain);
        total.applied += r.applied;
        total.fenced += r.fenced;
        total.retries += r.retries;
        total.conflicts += r.conflicts;
      });
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
    this.closing.abort(new SinkClosedError('DynamoVoteSink'));
    if (this.ownsClient) this.client.destroy();
  }

  private async writeChain(chain: Chain): Promise<VoteWriteResult> {
    const { electionId, partition } = chain;
    const pk = chainPk(electionId, partition);
    let state = this.heads.get(pk) ?? (await this.readHead(pk));
    let inputs = chain.inputs;
    let applied = 0;
    let fenced = 0;
    let retries = 0;
    let conflicts = 0;
    let attempt = 0;
    for (;;) {
      this.throwIfClosed();
      // The fence: inputs are in offset order, so what the head covers is a prefix.
      const fence = state.lastOffset;
      const firstAbove = inputs.findIndex((input) => input.offset > fence);
      const skip = firstAbove === -1 ? inputs.length : firstAbove;
      fenced += skip;
      inputs = inputs.slice(skip);
      if (inputs.length === 0) break;
      const chunk = inputs.slice(0, MAX_VOTES_PER_TRANSACTION);
      const links = buildLinks(electionId, partition, state, chunk);
      try {
        await this.client.send(
          new TransactWriteItemsCommand({ TransactItems: chainTransaction(this.table, electionId, partition, state, links) }),
          { abortSignal: this.closing.signal },
        );
      } catch (err) {
        this.throwIfClosed();
        const kind = classifyDynamoError(err);
        if (kind === 'fatal') {
          // Whatever happened, the cached head may be stale now: re-read it on the next write.
          this.heads.delete(pk);
          throw err;
        }
        if (kind === 'conflict') {
          conflicts++;
          this.logger?.debug({ task: this.taskId, chain: pk, lastSeq: state.lastSeq }, 'dynamo vote sink: head moved, re-reading it');
          state = await this.readHead(pk);
          this.heads.set(pk, state);
          continue;
        }
        retries++;
        this.metrics.retries.inc();
        this.logger?.warn({ err, task: this.taskId, chain: pk, attempt }, 'dynamo vote sink: transient failure, retrying');
        await sleep(backoffDelay(attempt++, this.backoff), this.closing.signal);
        continue;
      }
      attempt = 0;
      state = stateAfter(state, links);
      this.heads.set(pk, state);
      applied += chunk.length;
      inputs = inputs.slice(chunk.length);
    }
    return { applied, fenced, retries, conflicts };
  }

  /** The chain's head by a consistent read (an eventually consistent one could be behind the fence). */
  private async readHead(pk: string): Promise<ChainState> {
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      try {
        const out = await this.client.send(
          new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk }, sk: { S: HEAD_SK } }, ConsistentRead: true }),
          { abortSignal: this.closing.signal },
        );
        return decodeHead(out.Item);
      } catch (err) {
        this.throwIfClosed();
        if (classifyDynamoError(err) !== 'transient') throw err;
        this.metrics.retries.inc();
        await sleep(backoffDelay(attempt, this.backoff), this.closing.signal);
      }
    }
  }

  private throwIfClosed(): void {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
  }
}

/** Groups a batch by chain (first-seen order), each chain's inputs in offset order. */
export function chainsOf(batch: readonly SinkRecord<string, AcceptedVote>[]): Chain[] {
  const chains = new Map<string, Chain>();
  for (const record of batch) {
    if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
      throw new UnfenceableRecordError(`record at ${record.topic}[${record.partition}] has offset ${record.offset}; it cannot be fenced`);
    }
    const electionId = record.value.electionId;
    const key = `${electionId}\u0000${record.partition}`;
    let chain = chains.get(key);
    if (chain === undefined) chains.set(key, (chain = { electionId, partition: record.partition, inputs: [] }));
    chain.inputs.push({ offset: record.offset, vote: record.value });
  }
  // Records of a partition arrive in offset order; sorting is a cheap guard for callers that mix.
  for (const chain of chains.values()) chain.inputs.sort((a, b) => a.offset - b.offset);
  return [...chains.values()];
}
