/**
 * `audit invariants` (issue 12): the independent check of the whole pipeline. The expected result
 * comes from `votes` alone (invariants-expected.ts); it is compared with what each part of the
 * pipeline holds: `votes-accepted` and the DynamoDB chains vote by vote, Redis and the official
 * result (when published) count by count. Anomalies carry Jepsen's names: a `lost-write` is an
 * expected vote a source does not hold, a `duplicate` a voter a source holds more than once, an
 * `unexpected` vote one that should not be there at all, a `miscount` a vote held with other
 * content or a count that differs.
 */
import { TOTAL_FIELD } from '../redis-keys.js';
import type { ChainVote } from './chain-scan.js';
import { expectedResult, type SourcedVote } from './invariants-expected.js';
import type { Anomaly, InvariantsReport, VoteSource } from './invariants-report.js';
import { readAcceptedVotes } from './read-accepted.js';
import { readElectionHistory } from './read-elections.js';
import { readPipelineLag } from './read-lag.js';
import { readRedisCounts } from './read-redis.js';
import { scanElectionChains, type AuditSources } from './verify-chains.js';
import { diffTallies, tally, type Tally } from './verify-tally.js';
import { duplicateVoters, missingFrom } from './verify-voters.js';

type HeldVote = Pick<ChainVote, 'voteId' | 'voterId' | 'candidateId' | 'region' | 'ts'>;

export async function checkInvariants(sources: AuditSources, electionId: string): Promise<InvariantsReport> {
  const started = performance.now();
  const history = await readElectionHistory(sources.driver, sources.prefix, electionId);
  const [expected, accepted, chains, redis, lag] = await Promise.all([
    expectedResult(sources.driver, sources.prefix, electionId, history),
    readAcceptedVotes(sources.driver, sources.prefix, electionId),
    scanElectionChains(sources, electionId),
    readRedisCounts(sources.redis, electionId, sources.prefix),
    readPipelineLag(sources.driver, sources.prefix),
  ]);
  const expectedTally = tally(expected.firstVotes.values());
  const chainVotes = chains.flatMap((c) => c.votes);
  const official = redis.official === undefined ? undefined : officialTally(redis.official);
  const anomalies: Anomaly[] = [
    ...compareVotes('votes-accepted', expected.firstVotes, accepted.records.map((r) => r.vote)),
    ...compareVotes('dynamodb', expected.firstVotes, chainVotes),
    ...diffTallies(expectedTally, redis).map((d): Anomaly => ({ anomaly: 'miscount', source: 'redis', ...d })),
    ...(official === undefined ? [] : diffTallies(expectedTally, official.regionsPublished ? official : { counts: official.counts, regions: expectedTally.regions })).map(
      (d): Anomaly => ({ anomaly: 'miscount', source: 'official', ...d }),
    ),
  ];
  return {
    electionId,
    ok: anomalies.length === 0,
    votesRead: expected.read,
    rejected: expected.rejected,
    expected: expectedTally,
    held: {
      'votes-accepted': accepted.records.length,
      dynamodb: chainVotes.length,
      redis: redis.counts[TOTAL_FIELD] ?? 0,
      official: official === undefined ? null : (official.counts[TOTAL_FIELD] ?? 0),
    },
    lag,
    anomalies,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** A source that holds votes, against the expected first votes. */
function compareVotes(source: VoteSource, expected: ReadonlyMap<string, SourcedVote>, held: readonly HeldVote[]): Anomaly[] {
  const out: Anomaly[] = [];
  const inDuplicates = new Set<string>();
  for (const [voterId, votes] of duplicateVoters(held)) {
    out.push({ anomaly: 'duplicate', source, voterId, voteIds: votes.map((v) => v.voteId) });
    for (const v of votes) inDuplicates.add(v.voteId);
  }
  const heldIds = new Set(held.map((v) => v.voteId));
  const lost = missingFrom(expected.keys(), heldIds);
  if (lost.length > 0) out.push({ anomaly: 'lost-write', source, voteIds: lost });
  const unexpected = missingFrom(heldIds, expected).filter((id) => !inDuplicates.has(id));
  if (unexpected.length > 0) out.push({ anomaly: 'unexpected', source, voteIds: unexpected });
  for (const v of held) {
    const e = expected.get(v.voteId);
    if (e === undefined) continue;
    const fields: ['voterId' | 'candidateId' | 'region' | 'ts', string, string][] = [
      ['voterId', e.voterId, v.voterId],
      ['candidateId', e.candidateId, v.candidateId],
      ['region', e.region ?? '', v.region ?? ''],
      ['ts', String(e.ts), String(v.ts)],
    ];
    for (const [field, want, got] of fields) if (want !== got) out.push({ anomaly: 'miscount', source, voteId: v.voteId, field, expected: want, actual: got });
  }
  return out;
}

/**
 * The official hash as a tally: candidates and `_total`; `region:candidate` fields if it carries
 * any (DESIGN section 3 names only candidates, so their absence is not an anomaly).
 */
function officialTally(hash: Readonly<Record<string, string>>): Tally & { regionsPublished: boolean } {
  const counts: Record<string, number> = {};
  const regions: Record<string, number> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field === TOTAL_FIELD) counts[field] = Number(value);
    else if (field.startsWith('_')) continue;
    else if (field.includes(':')) regions[field] = Number(value);
    else counts[field] = Number(value);
  }
  return { counts, regions, regionsPublished: Object.keys(regions).length > 0 };
}
