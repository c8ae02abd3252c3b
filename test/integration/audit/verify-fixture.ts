/**
 * What the audit tests share: one election through the real pipeline (votes produced as the gateway
 * would, a worker process, every invariant checked before the audit runs), the audit's sources over
 * it, a chain long enough to tamper with, and the item-level tampering helpers.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import type { AuditSources } from '../../../voting/audit/verify-chains.js';
import { chainPk, HEAD_SK, voteHash, voteSk } from '../../../voting/hash-chain.js';
import { readChain, voteItem, type StoredVote } from '../../../voting/vote-chain.js';
import { cliEnv } from '../../support/cli.js';
import { services } from '../../support/services.js';
import {
  checkEverything,
  expectedFor,
  makeVotes,
  PARTITIONS,
  produceVotes,
  redisKeyPrefix,
  runWorker,
  setupPipeline,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Expected,
  type Pipeline,
  type VoteSet,
} from '../../support/scenario.js';

export type Item = Record<string, AttributeValue>;

/** HGETALL strings as numbers (the audit reports' shape). */
export const numeric = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));

export interface AuditedElection {
  readonly p: Pipeline;
  readonly redis: Redis;
  readonly e: string;
  readonly set: VoteSet;
  readonly expected: Expected;
  readonly sources: AuditSources;
  /** The first chain with at least `minChainVotes` votes, and its votes as the pipeline wrote them. */
  readonly chain: { readonly partition: number; readonly votes: StoredVote[] };
  /** The environment of the `votestream` CLI for this deployment. */
  readonly env: NodeJS.ProcessEnv;
  getItem(sk: string): Promise<Item>;
  putItem(item: Item): Promise<void>;
  deleteItem(sk: string): Promise<void>;
  /**
   * Appends a second vote of the chain's first voter (new voteId, hash and head made right, so the
   * chain itself verifies); returns it and what undoes it.
   */
  appendSecondVote(voteId: string): Promise<{ vote: StoredVote; victim: StoredVote; undo: () => Promise<void> }>;
  close(): Promise<void>;
}

export async function auditedElection(label: string, count: number, seed: number, minChainVotes: number): Promise<AuditedElection> {
  const p = await setupPipeline(label, 1);
  const redis = new Redis(services().redis);
  const e = p.elections[0].electionId;
  const set = makeVotes(p, count, seed);
  const expected = expectedFor(set, e);
  await produceVotes(p, set.votes);
  const worker = await runWorker(p, {});
  await waitForTotal(redis, e, expected.total, 90_000, redisKeyPrefix(p));
  await waitForChains(p, e, expected.total);
  await stopWorkerCleanly(worker);
  await checkEverything(p, redis, set);
  let chain: AuditedElection['chain'] | undefined;
  for (let partition = 0; partition < PARTITIONS && chain === undefined; partition++) {
    const { votes } = await readChain(p.dynamodb, p.table, e, partition);
    if (votes.length >= minChainVotes) chain = { partition, votes };
  }
  if (chain === undefined) throw new TypeError(`no chain of ${e} holds ${minChainVotes} votes`);
  const key = (sk: string) => ({ pk: { S: chainPk(e, chain!.partition) }, sk: { S: sk } });
  const getItem = async (sk: string): Promise<Item> => (await p.dynamodb.send(new GetItemCommand({ TableName: p.table, Key: key(sk), ConsistentRead: true }))).Item!;
  const putItem = async (item: Item) => {
    await p.dynamodb.send(new PutItemCommand({ TableName: p.table, Item: item }));
  };
  const deleteItem = async (sk: string) => {
    await p.dynamodb.send(new DeleteItemCommand({ TableName: p.table, Key: key(sk) }));
  };
  const votes = chain.votes;
  return {
    p,
    redis,
    e,
    set,
    expected,
    sources: { dynamodb: p.dynamodb, driver: p.driver, redis, prefix: p.prefix, partitions: PARTITIONS },
    chain,
    env: cliEnv({ brokers: p.brokers, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix }),
    getItem,
    putItem,
    deleteItem,
    async appendSecondVote(voteId) {
      const head = await getItem(HEAD_SK);
      const n = Number(head.lastSeq.N);
      const [last, victim] = [votes[n - 1], votes[0]];
      const unhashed: StoredVote = { ...victim, voteId, seq: n + 1, prevHash: last.hash, offset: last.offset + 1, sourceOffset: last.sourceOffset + 1, hash: '' };
      const vote = { ...unhashed, hash: voteHash(unhashed) };
      await putItem(voteItem(vote));
      await putItem({ ...head, lastSeq: { N: String(n + 1) }, lastHash: { S: vote.hash }, lastOffset: { N: String(vote.offset) } });
      return {
        vote,
        victim,
        undo: async () => {
          await putItem(head);
          await deleteItem(voteSk(n + 1));
        },
      };
    },
    async close() {
      await redis.quit();
      await p.cleanup();
    },
  };
}
