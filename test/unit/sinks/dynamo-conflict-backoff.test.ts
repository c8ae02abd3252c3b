/**
 * Issue 8, minor: a ConditionalCheckFailed that persists (the head does not move, yet the
 * transaction keeps failing) must not re-read the head in a hot loop. A fake DynamoDB client under
 * fake timers counts the attempts: the first conflict is re-read at once, the next ones wait.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoVoteSink } from '../../../voting/vote-log-sink.js';
import { SinkClosedError } from '../../../sinks/retry.js';
import type { SinkRecord } from '../../../sinks/sink.js';
import type { AcceptedVote } from '../../../voting/vote.js';

function conflict(): Error {
  const e = new Error('Transaction cancelled');
  e.name = 'TransactionCanceledException';
  return Object.assign(e, { $fault: 'client', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });
}

/** Every transaction fails on its condition; every head read finds the same head. */
class StuckTable {
  transactions = 0;
  headReads = 0;
  async send(command: { constructor: { name: string } }): Promise<Record<string, unknown>> {
    const name = command.constructor.name;
    if (name === 'TransactWriteItemsCommand') {
      this.transactions++;
      // A hot loop would never yield to the timers: stop it so the test fails instead of hanging.
      if (this.transactions > 50) throw new Error('hot loop: 50 transactions without waiting');
      throw conflict();
    }
    if (name === 'GetItemCommand') {
      this.headReads++;
      return {};
    }
    throw new Error(`unexpected ${name}`);
  }
}

const vote: AcceptedVote = { voteId: '6f1c3a2e-8b4d-4c1e-9f2a-3b4c5d6e7f80', electionId: 'e1', voterId: 'u1', candidateId: 'c1', ts: 1, source: { partition: 0, offset: 0 } };
const record: SinkRecord<string, AcceptedVote> = { topic: 'votes-accepted', partition: 0, offset: 5, timestamp: 0, key: 'u1', value: vote, headers: {} };

describe('DynamoVoteSink persistent conflict', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('backs off between re-reads of a head that keeps failing its condition', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const table = new StuckTable();
    const sink = new DynamoVoteSink({ dynamodb: table as unknown as DynamoDBClient, tableName: 't', backoff: { baseMs: 100, maxMs: 1_000 } });
    const outcome = sink.write([record]).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(0);
    // Head read, transaction, conflict -> immediate re-read, transaction, conflict -> wait.
    expect({ transactions: table.transactions, headReads: table.headReads }).toEqual({ transactions: 2, headReads: 2 });
    // Full jitter at 0.5: 50 ms for the first wait, 100 for the second, 200 for the third.
    await vi.advanceTimersByTimeAsync(49);
    expect(table.transactions).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect({ transactions: table.transactions, headReads: table.headReads }).toEqual({ transactions: 3, headReads: 3 });
    await vi.advanceTimersByTimeAsync(100);
    expect(table.transactions).toBe(4);
    await vi.advanceTimersByTimeAsync(199);
    expect(table.transactions).toBe(4);
    await sink.close();
    expect(await outcome).toBeInstanceOf(SinkClosedError);
  });
});
