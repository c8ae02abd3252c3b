import type { RedisClient } from '../../sinks/redis-client.js';
import { CHECKPOINT_FIELD, countsKey, officialKey, regionsKey, ROOT_FIELD, TOTAL_FIELD, VERIFIED_AT_FIELD } from '../redis-keys.js';

/** The audited result as the snapshot carries it; each field only when the official hash has it. */
export interface OfficialResult {
  readonly total?: number;
  readonly counts: Record<string, number>;
  readonly verifiedAt?: number;
  readonly root?: string;
  readonly checkpoint?: string;
}

/**
 * DESIGN section 3's snapshot: `counts` candidateId -> count, `regions` region -> candidateId ->
 * count (the `region:candidateId` fields of the regions hash, nested so a page need not split them),
 * `at` when the feed read it, `official` once the audited result exists.
 */
export interface Snapshot {
  readonly type: 'snapshot';
  readonly electionId: string;
  readonly total: number;
  readonly counts: Record<string, number>;
  readonly regions: Record<string, Record<string, number>>;
  readonly at: number;
  readonly official?: OfficialResult;
}

/** What Redis holds for one election, as HGETALL answers it. */
export interface ElectionHashes {
  readonly counts: Record<string, string>;
  readonly regions: Record<string, string>;
  readonly official: Record<string, string>;
}

/**
 * Reads the three hashes in one MULTI: the count script applies a batch to counts and regions
 * atomically, so reading them apart could show a total that does not add up.
 */
export async function readElectionHashes(redis: RedisClient, electionId: string, prefix: string): Promise<ElectionHashes> {
  const replies = await redis.multi().hgetall(countsKey(electionId, prefix)).hgetall(regionsKey(electionId, prefix)).hgetall(officialKey(electionId, prefix)).exec();
  const hash = (i: number): Record<string, string> => {
    const [error, value] = replies?.[i] ?? [null, {}];
    if (error !== null) throw error;
    return (value ?? {}) as Record<string, string>;
  };
  return { counts: hash(0), regions: hash(1), official: hash(2) };
}

function count(text: string | undefined): number {
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

function candidateCounts(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  // Sorted, so that two reads of the same state serialize to the same text (change detection).
  for (const field of Object.keys(hash).sort()) if (!field.startsWith('_')) out[field] = count(hash[field]);
  return out;
}

function regionCounts(hash: Record<string, string>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const field of Object.keys(hash).sort()) {
    // Region names never contain ':' (ids follow ID_PATTERN), candidate ids neither: split at the first.
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const region = field.slice(0, colon);
    (out[region] ??= {})[field.slice(colon + 1)] = count(hash[field]);
  }
  return out;
}

function officialResult(hash: Record<string, string>): OfficialResult | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  return {
    ...(hash[TOTAL_FIELD] === undefined ? {} : { total: count(hash[TOTAL_FIELD]) }),
    counts: candidateCounts(hash),
    ...(hash[VERIFIED_AT_FIELD] === undefined ? {} : { verifiedAt: count(hash[VERIFIED_AT_FIELD]) }),
    ...(hash[ROOT_FIELD] === undefined ? {} : { root: hash[ROOT_FIELD] }),
    ...(hash[CHECKPOINT_FIELD] === undefined ? {} : { checkpoint: hash[CHECKPOINT_FIELD] }),
  };
}

/** The snapshot of `hashes`, read at `at`. */
export function snapshotOf(electionId: string, hashes: ElectionHashes, at: number): Snapshot {
  const official = officialResult(hashes.official);
  return {
    type: 'snapshot',
    electionId,
    total: count(hashes.counts[TOTAL_FIELD]),
    counts: candidateCounts(hashes.counts),
    regions: regionCounts(hashes.regions),
    at,
    ...(official === undefined ? {} : { official }),
  };
}

/** The snapshot without its time, serialized: equal for two reads of an unchanged election. */
export function contentKey(s: Snapshot): string {
  const { at: _at, ...content } = s;
  return JSON.stringify(content);
}

/**
 * The snapshot's JSON, from its content key: `at` appended last rather than a second
 * serialization of the whole (snapshots of big elections are hundreds of KB).
 */
export function serializeSnapshot(s: Snapshot, key: string): string {
  return `${key.slice(0, -1)},"at":${s.at}}`;
}
