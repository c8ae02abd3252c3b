import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { readChain } from '../../../voting/vote-chain.js';
import { DynamoVoteSink } from '../../../voting/vote-log-sink.js';
import { verifyChain } from '../../../voting/hash-chain.js';
import { services, uniquePrefix } from '../../support/services.js';
import { createVotesTable, deleteTable } from './dynamo-table.js';
import { cut, voteStream, type VoteRecord } from './vote-stream.js';

/** What a chain must hold: its records' fields in offset order. */
function expectedChain(records: readonly VoteRecord[], electionId: string, partition: number) {
  return records
    .filter((r) => r.value.electionId === electionId && r.partition === partition)
    .sort((a, b) => a.offset - b.offset)
    .map((r, i) => ({
      seq: i + 1,
      voteId: r.value.voteId,
      voterId: r.value.voterId,
      candidateId: r.value.candidateId,
      region: r.value.region,
      ts: r.value.ts,
      offset: r.offset,
      sourceOffset: r.value.source.offset,
    }));
}

async function checkChain(dynamodb: DynamoDBClient, table: string, records: readonly VoteRecord[], electionId: string, partition: number): Promise<number> {
  const { head, votes } = await readChain(dynamodb, table, electionId, partition);
  const expected = expectedChain(records, electionId, partition);
  expect(votes.map((v) => ({ seq: v.seq, voteId: v.voteId, voterId: v.voterId, candidateId: v.candidateId, region: v.region, ts: v.ts, offset: v.offset, sourceOffset: v.sourceOffset }))).toEqual(expected);
  expect(new Set(votes.map((v) => v.voteId)).size).toBe(votes.length);
  if (expected.length === 0) {
    expect(head).toBeUndefined();
    return 0;
  }
  const last = votes[votes.length - 1];
  expect(head).toEqual({ lastSeq: expected.length, lastHash: last.hash, lastOffset: expected[expected.length - 1].offset });
  expect(verifyChain(votes, head)).toEqual({ ok: true, count: expected.length, lastSeq: expected.length, lastHash: last.hash });
  return expected.length;
}

describe('DynamoVoteSink against DynamoDB Local', () => {
  let dynamodb: DynamoDBClient;
  const table = `${uniquePrefix('dvs')}votestream-votes`;
  beforeAll(async () => {
    dynamodb = dynamoClient(services().dynamodbEndpoint);
    await createVotesTable(dynamodb, table);
  });
  afterAll(async () => {
    await deleteTable(dynamodb, table);
    dynamodb.destroy();
  });

  it('writes one exact, verifiable chain per (election, partition); a full replay adds nothing', async () => {
    const prefix = uniquePrefix('dvs');
    const elections = [`${prefix}e1`, `${prefix}e2`];
    const stream = voteStream({ elections, partitions: 12, perPartition: 50, seed: 11 });
    const all = stream.flat();
    const registry = new Registry();
    const sinks = stream.map(() => new DynamoVoteSink({ dynamodb, tableName: table, registry }));
    await Promise.all(sinks.map((s, p) => s.open({ taskId: `persist-${p}`, partition: p })));
    const batches = stream.map((records) => cut(records, [20]));
    const applied = await Promise.all(batches.map(async (list, p) => {
      let n = 0;
      for (const batch of list) n += (await sinks[p].writeBatch(batch)).applied;
      return n;
    }));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(600);
    let total = 0;
    for (const e of elections) for (let p = 0; p < 12; p++) total += await checkChain(dynamodb, table, all, e, p);
    expect(total).toBe(600);

    // Replay every batch through fresh sinks (a restart: heads are read from the table).
    const fresh = stream.map(() => new DynamoVoteSink({ dynamodb, tableName: table, registry }));
    for (let p = 0; p < 12; p++) {
      await fresh[p].open({ taskId: `persist-${p}`, partition: p });
      for (const batch of batches[p]) expect(await fresh[p].writeBatch(batch)).toEqual({ applied: 0, fenced: batch.length, retries: 0, conflicts: 0 });
    }
    for (const e of elections) for (let p = 0; p < 12; p++) await checkChain(dynamodb, table, all, e, p);
    await Promise.all([...sinks, ...fresh].map((s) => s.close()));
  });

  it('handles a replay re-cut across the head, and transactions of at most 98 votes (100 actions with the head and the watermark guard)', async () => {
    const e = `${uniquePrefix('dvs')}straddle`;
    const [records] = voteStream({ elections: [e], partitions: 1, perPartition: 260, seed: 5 });
    const sink = new DynamoVoteSink({ dynamodb, tableName: table });
    await sink.open({ taskId: 'persist-0', partition: 0 });
    for (const batch of cut(records.slice(0, 45), [10])) await sink.write(batch);
    // A new owner replays from before the head, in other batches: 7, then one of 215 (98 + 98 + 19 new).
    const replay = new DynamoVoteSink({ dynamodb, tableName: table });
    await replay.open({ taskId: 'persist-0', partition: 0 });
    const results = [];
    for (const batch of cut(records.slice(38), [7, 215])) results.push(await replay.writeBatch(batch));
    expect(results).toEqual([
      { applied: 0, fenced: 7, retries: 0, conflicts: 0 },
      { applied: 215, fenced: 0, retries: 0, conflicts: 0 },
    ]);
    // And the stale first owner, which still believes its own head, straddles it too.
    expect(await sink.writeBatch(records.slice(40, 60))).toEqual({ applied: 0, fenced: 20, retries: 0, conflicts: 1 });
    expect(await checkChain(dynamodb, table, records, e, 0)).toBe(260);
    await sink.close();
    await replay.close();
  });

  it('two writers racing on one chain (a zombie) produce one chain, no fork and no duplicate', async () => {
    const e = `${uniquePrefix('dvs')}zombie`;
    const stream = voteStream({ elections: [e], partitions: 6, perPartition: 300, seed: 9 });
    const records = stream[5];
    const a = new DynamoVoteSink({ dynamodb, tableName: table });
    const b = new DynamoVoteSink({ dynamodb, tableName: table });
    await a.open({ taskId: 'persist-5', partition: 5 });
    await b.open({ taskId: 'persist-5', partition: 5 });
    const run = async (sink: DynamoVoteSink, sizes: number[]) => {
      let conflicts = 0;
      for (const batch of cut(records, sizes)) conflicts += (await sink.writeBatch(batch)).conflicts;
      return conflicts;
    };
    const [ca, cb] = await Promise.all([run(a, [40]), run(b, [25, 60])]);
    expect(ca + cb).toBeGreaterThan(0);
    expect(await checkChain(dynamodb, table, records, e, 5)).toBe(300);
    await a.close();
    await b.close();
  });
});
