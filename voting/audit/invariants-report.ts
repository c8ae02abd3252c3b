/** What `audit invariants` found, as data (the `--json` output) and as the human report. */
import type { RejectReason } from '../vote.js';
import { boundedLines, boundedList, formatFields, lagNote } from './audit-report.js';
import type { PipelineLag } from './read-lag.js';
import type { Tally } from './verify-tally.js';

/** Sources that hold votes (compared vote by vote). */
export type VoteSource = 'votes-accepted' | 'dynamodb';
/** Sources that hold only counts. */
export type CountSource = 'redis' | 'official';

export type Anomaly =
  /** Expected votes the source does not hold (sorted). */
  | { readonly anomaly: 'lost-write'; readonly source: VoteSource; readonly voteIds: string[] }
  /** A voter the source holds more than once, with each of its voteIds (in the source's order). */
  | { readonly anomaly: 'duplicate'; readonly source: VoteSource; readonly voterId: string; readonly voteIds: string[] }
  /** Votes the source holds that are no voter's first valid vote (sorted). */
  | { readonly anomaly: 'unexpected'; readonly source: VoteSource; readonly voteIds: string[] }
  /** An expected vote held with other content. */
  | { readonly anomaly: 'miscount'; readonly source: VoteSource; readonly voteId: string; readonly field: 'voterId' | 'candidateId' | 'region' | 'ts'; readonly expected: string; readonly actual: string }
  /** A count that is not the expected count. */
  | { readonly anomaly: 'miscount'; readonly source: CountSource; readonly hash: 'counts' | 'regions'; readonly field: string; readonly expected: number; readonly actual: number };

export interface InvariantsReport {
  readonly electionId: string;
  /** True when there is no anomaly. */
  readonly ok: boolean;
  /** Records of `votes` read (every election). */
  readonly votesRead: number;
  /** The election's votes that must not count, by reason. */
  readonly rejected: Partial<Record<RejectReason, number>>;
  /** Computed from `votes`: the first valid vote of each voter. */
  readonly expected: Tally;
  /** Votes each source holds (Redis and the official result: their `_total`; null: not published). */
  readonly held: { readonly 'votes-accepted': number; readonly dynamodb: number; readonly redis: number; readonly official: number | null };
  /** Records each part of the pipeline had not processed when the check ran (all elections). */
  readonly lag: PipelineLag;
  readonly anomalies: Anomaly[];
  readonly elapsedMs: number;
}

export function describeAnomaly(a: Anomaly): string {
  switch (a.anomaly) {
    case 'lost-write':
      return `lost-write in ${a.source}: ${a.voteIds.length} vote(s): ${boundedList(a.voteIds)}`;
    case 'unexpected':
      return `unexpected in ${a.source}: ${a.voteIds.length} vote(s): ${boundedList(a.voteIds)}`;
    case 'duplicate':
      return `duplicate in ${a.source}: voter ${a.voterId} holds ${a.voteIds.length} votes: ${boundedList(a.voteIds)}`;
    case 'miscount':
      return 'voteId' in a
        ? `miscount in ${a.source}: vote ${a.voteId} field ${a.field}: expected ${JSON.stringify(a.expected)}, found ${JSON.stringify(a.actual)}`
        : `miscount in ${a.source}: ${a.hash} field ${a.field}: expected ${a.expected}, found ${a.actual}`;
  }
}

export function formatInvariantsReport(r: InvariantsReport): string {
  const total = r.expected.counts._total ?? 0;
  const held = r.held;
  const lines = [
    `audit invariants: election ${r.electionId}: ${total} vote(s) expected from ${r.votesRead} record(s) of votes (${(r.elapsedMs / 1000).toFixed(1)} s)`,
    `  expected counts:  ${formatFields(r.expected.counts)}`,
    `  expected regions: ${formatFields(r.expected.regions)}`,
    `  rejected:         ${formatFields(r.rejected as Record<string, number>)}`,
    `  held: votes-accepted ${held['votes-accepted']}, dynamodb ${held.dynamodb}, redis ${held.redis}, official ${held.official ?? 'not published'}`,
    ...lagNote(r.lag),
  ];
  if (r.ok) lines.push('  OK: no lost, duplicated, unexpected or miscounted vote in votes-accepted, DynamoDB, Redis or the official result');
  else {
    lines.push(`  ${r.anomalies.length} ANOMAL${r.anomalies.length === 1 ? 'Y' : 'IES'}:`);
    lines.push(...boundedLines(r.anomalies.map((a) => `  - ${describeAnomaly(a)}`)));
  }
  return `${lines.join('\n')}\n`;
}
