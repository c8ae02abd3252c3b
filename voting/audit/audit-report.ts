/**
 * What `audit verify` found, as data (the `--json` output) and as the human report. Every finding
 * names where it is: the chain (partition), the seq, the field, and for differences between
 * sources the voteIds. The human report bounds long lists; the JSON keeps them whole.
 */
import { VotestreamError } from '../../runtime/errors.js';
import type { VotingErrorCode } from '../error-codes.js';
import type { RejectReason } from '../vote.js';
import type { ChainFinding } from './chain-scan.js';
import type { PipelineLag } from './read-lag.js';
import type { Tally } from './verify-tally.js';

/**
 * An audit found what it exists to find. Thrown after the report was printed, so the process
 * exits with its own code (7): a discrepancy is neither a usage error nor a service that is down.
 */
export class AuditDiscrepancyError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('AUDIT_DISCREPANCY', message);
  }
}

/** A vote field the chain item and its `votes-accepted` record must agree on. */
export type VoteField = 'voteId' | 'voterId' | 'candidateId' | 'region' | 'ts' | 'sourceOffset' | 'offset';

export interface VotePlace {
  readonly partition: number;
  readonly seq: number;
  readonly voteId: string;
}

export type VerifyFinding =
  /** The chain itself is broken (see ChainField). */
  | ({ readonly kind: 'chain' } & ChainFinding)
  /** A chain item says another thing than the `votes-accepted` record at its partition and offset. */
  | (VotePlace & { readonly kind: 'vote-field'; readonly field: VoteField; readonly dynamodb: string; readonly votesAccepted: string })
  /** A vote the judging rule rejects under the version in force at its ts (null: none was). */
  | (VotePlace & { readonly kind: 'invalid-vote'; readonly reason: RejectReason; readonly version: number | null })
  /** One voter holds more than one vote in the election's chains. */
  | { readonly kind: 'duplicate-voter'; readonly voterId: string; readonly votes: VotePlace[] }
  /** A Redis count that is not the chains' count. */
  | { readonly kind: 'count'; readonly source: 'redis'; readonly hash: 'counts' | 'regions'; readonly field: string; readonly dynamodb: number; readonly redis: number }
  /** The chains and `votes-accepted` do not hold the same voteIds (each list sorted). */
  | { readonly kind: 'vote-set'; readonly source: 'votes-accepted'; readonly onlyInDynamodb: string[]; readonly onlyInVotesAccepted: string[] };

export interface ChainSummary {
  readonly partition: number;
  readonly votes: number;
  readonly lastSeq: number;
  readonly lastOffset: number;
  readonly beyondHead: number;
}

export interface VerifyReport {
  readonly electionId: string;
  /** True when there is no finding. */
  readonly ok: boolean;
  /** Chains read: the partition count of `votes-accepted`. */
  readonly partitions: number;
  /** Committed votes in the chains. */
  readonly votes: number;
  /** The chains that have a head, in partition order. */
  readonly chains: ChainSummary[];
  /** Counted from the chains. */
  readonly tally: Tally;
  readonly redis: Tally;
  /** The election's records on `votes-accepted`. */
  readonly votesAccepted: number;
  /** Records each part of the pipeline had not processed when the audit ran (all elections). */
  readonly lag: PipelineLag;
  /** In the order: chains, vote fields, invalid votes, duplicate voters, counts, vote sets. */
  readonly findings: VerifyFinding[];
  readonly elapsedMs: number;
}

/** How many voteIds (or findings of one kind) the human report prints before "and N more". */
export const HUMAN_LIST_LIMIT = 10;

/** `a, b, c ... and 7 more` (the JSON report has them all). */
export function boundedList(items: readonly string[], limit = HUMAN_LIST_LIMIT): string {
  if (items.length <= limit) return items.join(', ');
  return `${items.slice(0, limit).join(', ')} ... and ${items.length - limit} more (--json lists all)`;
}

export function formatFields(map: Readonly<Record<string, number>>): string {
  const fields = Object.entries(map).map(([k, v]) => `${k}=${v}`);
  return fields.length > 0 ? fields.join(' ') : '(none)';
}

export function describeFinding(f: VerifyFinding): string {
  switch (f.kind) {
    case 'chain':
      return `chain ${f.partition} seq ${f.seq} field ${f.field}: expected ${f.expected}, found ${f.actual}`;
    case 'vote-field':
      return `chain ${f.partition} seq ${f.seq} field ${f.field} of vote ${f.voteId}: DynamoDB ${JSON.stringify(f.dynamodb)}, votes-accepted ${JSON.stringify(f.votesAccepted)}`;
    case 'invalid-vote':
      return `chain ${f.partition} seq ${f.seq} vote ${f.voteId} is invalid: ${f.reason} (${f.version === null ? 'no version in force' : `version ${f.version}`})`;
    case 'duplicate-voter':
      return `voter ${f.voterId} appears ${f.votes.length} times: ${f.votes.map((v) => `chain ${v.partition} seq ${v.seq} (${v.voteId})`).join(', ')}`;
    case 'count':
      return `Redis ${f.hash} field ${f.field}: DynamoDB ${f.dynamodb}, Redis ${f.redis}`;
    case 'vote-set':
      return [
        `voteIds differ between DynamoDB and votes-accepted:`,
        `    only in DynamoDB (${f.onlyInDynamodb.length}): ${boundedList(f.onlyInDynamodb) || '-'}`,
        `    only in votes-accepted (${f.onlyInVotesAccepted.length}): ${boundedList(f.onlyInVotesAccepted) || '-'}`,
      ].join('\n');
  }
}

/** Bounds a list of lines the same way as boundedList. */
export function boundedLines(lines: readonly string[], limit = HUMAN_LIST_LIMIT * 5): string[] {
  if (lines.length <= limit) return [...lines];
  return [...lines.slice(0, limit), `... and ${lines.length - limit} more finding(s) (--json lists all)`];
}

/** The note that differences may be in flight, or nothing when the pipeline had caught up. */
export function lagNote(lag: PipelineLag): string[] {
  if (lag.dedup === 0 && lag.count === 0 && lag.persist === 0) return [];
  return [`  note: the pipeline is behind (dedup ${lag.dedup}, count ${lag.count}, persist ${lag.persist} record(s) not processed): differences may still be in flight`];
}

export function formatVerifyReport(r: VerifyReport): string {
  const rate = r.elapsedMs > 0 ? Math.round((r.votes * 1000) / r.elapsedMs).toLocaleString('en-US') : '-';
  const lines = [
    `audit verify: election ${r.electionId}: ${r.votes} vote(s) in ${r.chains.length} of ${r.partitions} chain(s), ${r.votesAccepted} on votes-accepted (${(r.elapsedMs / 1000).toFixed(1)} s, ${rate} votes/s)`,
    `  counts:  ${formatFields(r.tally.counts)}`,
    `  regions: ${formatFields(r.tally.regions)}`,
    ...lagNote(r.lag),
  ];
  if (r.ok) {
    lines.push('  OK: every hash recomputes, seq runs from 1 without a gap, every head matches its chain, no voter twice, every vote valid; Redis and votes-accepted agree');
  } else {
    lines.push(`  ${r.findings.length} DISCREPANC${r.findings.length === 1 ? 'Y' : 'IES'}:`);
    lines.push(...boundedLines(r.findings.map((f) => `  - ${describeFinding(f)}`)));
  }
  return `${lines.join('\n')}\n`;
}
