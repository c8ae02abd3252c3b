/**
 * Raw BatchWriteItem writer: puts items 25 per request with no condition, no chain and no fence.
 * It exists to measure DynamoDB's ceiling for items of the vote shape, the figure the fenced
 * DynamoVoteSink is compared with (benchmarks/sinks-benchmark.ts). It is not exactly-once and must
 * not be used to write votes.
 */
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { forEachBounded } from './bounded-parallel.js';
import type { Item } from './chain-items.js';
import { classifyDynamoError } from './dynamo-errors.js';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './retry.js';

/** DynamoDB's limit of put requests in one BatchWriteItem. */
export const MAX_BATCH_WRITE_ITEMS = 25;

export interface BatchWriteOptions {
  /** Requests in flight. Default 8. */
  readonly concurrency?: number;
  readonly backoff?: BackoffOptions;
  readonly signal?: AbortSignal;
}

export interface BatchWriteResult {
  readonly items: number;
  readonly requests: number;
  /** Requests re-sent for UnprocessedItems or after a transient failure. */
  readonly retries: number;
}

export async function batchWriteItems(client: DynamoDBClient, table: string, items: readonly Item[], options: BatchWriteOptions = {}): Promise<BatchWriteResult> {
  const signal = options.signal ?? new AbortController().signal;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const chunks: Item[][] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH_WRITE_ITEMS) chunks.push(items.slice(i, i + MAX_BATCH_WRITE_ITEMS));
  let requests = 0;
  let retries = 0;
  await forEachBounded(chunks, options.concurrency ?? 8, async (chunk) => {
    let pending: WriteRequest[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; ) {
      requests++;
      try {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }), { abortSignal: signal });
        pending = out.UnprocessedItems?.[table] ?? [];
      } catch (err) {
        if (classifyDynamoError(err) !== 'transient') throw err;
      }
      if (pending.length > 0) {
        retries++;
        await sleep(backoffDelay(attempt++, backoff), signal);
      }
    }
  });
  return { items: items.length, requests, retries };
}
