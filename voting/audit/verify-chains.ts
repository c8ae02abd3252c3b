/**
 * `audit verify` (issue 12): the election's chains checked on their own (chain-scan.ts), then
 * against the judging rule, against each other (no voter twice in the election), against Redis
 * (the live counts) and against `votes-accepted` (the same voteIds, each item equal to the record
 * at its partition and offset). Reads only; the four sources are read at once.
 *
 * Run it when the pipeline is idle, or expect Redis and `votes-accepted` to run ahead of the
 * chains: the persist path is the slow one (DESIGN section 1), and what it has not written yet
 * shows up as counts and voteIds that differ, which is what they are at that moment.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RedisClient } from '../../sinks/redis-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { decideVote } from '../decide.js';
import { versionAt, type ElectionHistory } from '../election.js';
import { tableNames } from '../topics.js';
import type { Progress } from '../../runtime/progress.js';
import type { ChainSummary, VerifyFinding, VerifyReport, VoteField } from './audit-report.js';
import { scanChains, type ChainVote, type ScannedChain } from './chain-scan.js';
import { readAcceptedVotes, type AcceptedRecord } from './read-accepted.js';
import { readElectionHistory } from './read-elections.js';
import { readPipelineLag } from './read-lag.js';
import { readRedisCounts } from './read-redis.js';
import { diffTallies, tally } from './verify-tally.js';
import { duplicateVoters, missingFrom } from './verify-voters.js';

export interface AuditSources {
  readonly dynamodb: DynamoDBClient;
  readonly driver: KafkaDriver;
  readonly redis: RedisClient;
  /** The deployment prefix of topics, tables and Redis keys (DESIGN section 3). */
  readonly prefix: string;
  /** The partition count of `votes-accepted`: chains 0..partitions-1. */
  readonly partitions: number;
  /** Chain Queries in flight. Default 4. */
  readonly concurrency?: number;
  /** Told the votes the heads hold, then the votes read so far. */
  readonly progress?: Pick<Progress, 'setTotal' | 'update'>;
}

export async function verifyElection(sources: AuditSources, electionId: string): Promise<VerifyReport> {
  const started = performance.now();
  const [history, chains, accepted, redis, lag] = await Promise.all([
    readElectionHistory(sources.driver, sources.prefix, electionId),
    scanElectionChains(sources, electionId),
    readAcceptedVotes(sources.driver, sources.prefix, electionId),
    readRedisCounts(sources.redis, electionId, sources.prefix),
    readPipelineLag(sources.driver, sources.prefix),
  ]);
  const votes = chains.flatMap((c) => c.votes);
  const counted = tally(votes);
  const findings: VerifyFinding[] = [
    ...chains.flatMap((c) => c.findings.map((f): VerifyFinding => ({ kind: 'chain', ...f }))),
    ...compareWithAccepted(votes, accepted.records),
    ...invalidVotes(electionId, votes, history),
    ...duplicateVoters(votes).map(([voterId, list]): VerifyFinding => ({ kind: 'duplicate-voter', voterId, votes: list.map(place) })),
    ...diffTallies(counted, redis).map((d): VerifyFinding => ({ kind: 'count', source: 'redis', hash: d.hash, field: d.field, dynamodb: d.expected, redis: d.actual })),
  ];
  const acceptedIds = new Set(accepted.records.map((r) => r.vote.voteId));
  const chainIds = new Set(votes.map((v) => v.voteId));
  const onlyInDynamodb = missingFrom(chainIds, acceptedIds);
  const onlyInVotesAccepted = missingFrom(acceptedIds, chainIds);
  if (onlyInDynamodb.length > 0 || onlyInVotesAccepted.length > 0) findings.push({ kind: 'vote-set', source: 'votes-accepted', onlyInDynamodb, onlyInVotesAccepted });
  return {
    electionId,
    ok: findings.length === 0,
    partitions: sources.partitions,
    votes: votes.length,
    chains: chains.filter((c) => c.head !== undefined).map(summary),
    tally: counted,
    redis: { counts: redis.counts, regions: redis.regions },
    votesAccepted: accepted.records.length,
    lag,
    findings,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** The chain scan with the sources' table, concurrency and progress. */
export function scanElectionChains(sources: AuditSources, electionId: string): Promise<ScannedChain[]> {
  return scanChains({
    dynamodb: sources.dynamodb,
    table: tableNames(sources.prefix).votes,
    electionId,
    partitions: sources.partitions,
    concurrency: sources.concurrency,
    onTotal: (n) => sources.progress?.setTotal(n),
    onProgress: (n) => sources.progress?.update(n),
  });
}

function place(v: ChainVote) {
  return { partition: v.partition, seq: v.seq, voteId: v.voteId };
}

function summary(c: ScannedChain): ChainSummary {
  return { partition: c.partition, votes: c.votes.length, lastSeq: c.head?.lastSeq ?? 0, lastOffset: c.head?.lastOffset ?? -1, beyondHead: c.beyondHead };
}

/** Each chain vote against the `votes-accepted` record at its partition and offset, field by field. */
function compareWithAccepted(votes: readonly ChainVote[], records: readonly AcceptedRecord[]): VerifyFinding[] {
  const at = new Map(records.map((r) => [`${r.partition}:${r.offset}`, r]));
  const byVoteId = new Map(records.map((r) => [r.vote.voteId, r]));
  const out: VerifyFinding[] = [];
  for (const v of votes) {
    const r = at.get(`${v.partition}:${v.offset}`);
    if (r === undefined) {
      // No record there: if the vote is elsewhere on the topic, the item's offset is what is wrong.
      const elsewhere = byVoteId.get(v.voteId);
      if (elsewhere !== undefined) out.push({ kind: 'vote-field', ...place(v), field: 'offset', dynamodb: `${v.partition}:${v.offset}`, votesAccepted: `${elsewhere.partition}:${elsewhere.offset}` });
      continue;
    }
    const pairs: [VoteField, string, string][] = [
      ['voteId', v.voteId, r.vote.voteId],
      ['voterId', v.voterId, r.vote.voterId],
      ['candidateId', v.candidateId, r.vote.candidateId],
      ['region', v.region ?? '', r.vote.region ?? ''],
      ['ts', String(v.ts), String(r.vote.ts)],
      ['sourceOffset', String(v.sourceOffset), String(r.vote.source.offset)],
    ];
    for (const [field, dynamodb, votesAccepted] of pairs) if (dynamodb !== votesAccepted) out.push({ kind: 'vote-field', ...place(v), field, dynamodb, votesAccepted });
  }
  return out;
}

/** Votes the judging rule rejects under the version in force at their ts (the dedup path's own decision function). */
function invalidVotes(electionId: string, votes: readonly ChainVote[], history: ElectionHistory): VerifyFinding[] {
  const out: VerifyFinding[] = [];
  for (const v of votes) {
    const version = versionAt(history, v.ts);
    const { voteId, voterId, candidateId, region, ts } = v;
    const reason = decideVote({ voteId, electionId, voterId, candidateId, ...(region === undefined ? {} : { region }), ts }, version);
    if (reason !== undefined) out.push({ kind: 'invalid-vote', ...place(v), reason, version: version?.version ?? null });
  }
  return out;
}
