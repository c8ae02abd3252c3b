/**
 * Election versions (DESIGN section 3): the values of the `elections` topic (never compacted: the
 * full history) and the items of the `votestream-elections` table. Pure: no I/O, no clock.
 *
 * Unknown fields are stripped, not rejected (unlike votes): every process reads `elections`, and a
 * worker that could not read an election written by a newer admin would turn all of its votes into
 * `unknown-election`. Identifiers follow the vote's `ID_PATTERN`, so candidate ids can never collide
 * with the reserved `_`-fields of the Redis count hashes.
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { VotestreamError } from '../runtime/errors.js';
import type { VotingErrorCode } from './error-codes.js';
import { formatZodError, idSchema, MAX_CANDIDATE_ID_LENGTH, MAX_ELECTION_ID_LENGTH, MAX_REGION_LENGTH } from './vote.js';

export const MAX_TITLE_LENGTH = 256;
export const MAX_CANDIDATE_NAME_LENGTH = 256;
export const MAX_CANDIDATES = 10_000;
export const MAX_REGIONS = 10_000;

export const CandidateSchema = z.object({
  id: idSchema(MAX_CANDIDATE_ID_LENGTH),
  name: z.string().min(1, { abort: true }).max(MAX_CANDIDATE_NAME_LENGTH),
});
export type Candidate = z.infer<typeof CandidateSchema>;

const msInstant = () => z.int().min(0);

/**
 * One version of an election (DESIGN section 3). There is no status: a draft is an election whose
 * window does not include now, and closing early is a new version whose `closesAt` is the closing
 * instant, so a vote's fate depends only on its own `ts` and the version in force then.
 */
export const ElectionSchema = z
  .object({
    electionId: idSchema(MAX_ELECTION_ID_LENGTH),
    /** 1 for the first version, +1 per change. */
    version: z.int().min(1),
    /** When this version starts to apply (ms): the moment the admin published it. */
    effectiveAt: msInstant(),
    title: z.string().min(1).max(MAX_TITLE_LENGTH),
    candidates: z.array(CandidateSchema).min(1).max(MAX_CANDIDATES),
    regions: z.array(idSchema(MAX_REGION_LENGTH)).max(MAX_REGIONS),
    /** First millisecond (inclusive) at which a vote's `ts` counts. */
    opensAt: msInstant(),
    /** Last millisecond (inclusive) at which a vote's `ts` counts. */
    closesAt: msInstant(),
  })
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.candidates.forEach((c, i) => {
      if (seen.has(c.id)) {
        ctx.addIssue({ code: 'custom', path: ['candidates', i, 'id'], message: `duplicate candidate id "${c.id}"` });
      }
      seen.add(c.id);
    });
    const regions = new Set<string>();
    e.regions.forEach((r, i) => {
      if (regions.has(r)) ctx.addIssue({ code: 'custom', path: ['regions', i], message: `duplicate region "${r}"` });
      regions.add(r);
    });
    if (!(e.opensAt < e.closesAt)) {
      ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'must be greater than opensAt' });
    }
  });
/** An election version: the value of an `elections` record and of a `votestream-elections` item. */
export type Election = z.infer<typeof ElectionSchema>;

export type DecodeElectionResult = { ok: true; election: Election } | { ok: false; error: string };

/** Validates an already-parsed value (e.g. from the admin API or a DynamoDB item). Never throws. */
export function parseElection(value: unknown): DecodeElectionResult {
  const result = ElectionSchema.safeParse(value);
  if (result.success) return { ok: true, election: result.data };
  return { ok: false, error: formatZodError(result.error, value) };
}

/** Decodes an `elections` record value (UTF-8 JSON). Never throws; a null value is a tombstone. */
export function decodeElection(bytes: Uint8Array | string | null | undefined): DecodeElectionResult {
  if (bytes === null || bytes === undefined) return { ok: false, error: 'record value is null' };
  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    if (!isUtf8(bytes)) return { ok: false, error: 'record value is not valid UTF-8' };
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  return parseElection(value);
}

/** Encodes an election version as UTF-8 JSON (DESIGN field order). */
export function encodeElection(election: Election): Buffer {
  const { electionId, version, effectiveAt, title, candidates, regions, opensAt, closesAt } = election;
  return Buffer.from(
    JSON.stringify({
      electionId,
      version,
      effectiveAt,
      title,
      candidates: candidates.map(({ id, name }) => ({ id, name })),
      regions,
      opensAt,
      closesAt,
    }),
    'utf8',
  );
}

/**
 * Every version of one election, in version order (what the workers' `elections` table keeps per
 * key; `elections` is never compacted, so the whole history is always there to rebuild it).
 */
export type ElectionHistory = readonly Election[];

/** An `elections` record that cannot be part of its election's history: the caller skips it. */
export class ElectionVersionError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('ELECTION_VERSION', message);
  }
}

function sameVersion(a: Election, b: Election): boolean {
  return encodeElection(a).equals(encodeElection(b));
}

/**
 * Folds the next record of an election into its history, in `elections` order. Deterministic: the
 * topic has one partition, so every worker folds the same records in the same order. Throws
 * ElectionVersionError for a record that cannot be part of the history (the caller skips it):
 * another election's id, a version number already used with other content, or an effectiveAt
 * earlier than the previous version's (that would change decisions retroactively). Republishing an
 * identical version is a no-op. A gap in version numbers is accepted: a skipped bad record must not
 * freeze the election at an old version.
 */
export function mergeElectionVersion(history: ElectionHistory | undefined, incoming: Election, key?: string): ElectionHistory {
  if (key !== undefined && key !== incoming.electionId) {
    throw new ElectionVersionError(`record key "${key}" is not its electionId "${incoming.electionId}"`);
  }
  const versions = history ?? [];
  const last = versions.at(-1);
  if (last === undefined) return [incoming];
  if (incoming.version <= last.version) {
    const same = versions.find((v) => v.version === incoming.version);
    if (same !== undefined && sameVersion(same, incoming)) return versions;
    throw new ElectionVersionError(`version ${incoming.version} of "${incoming.electionId}" conflicts with the history (latest is ${last.version})`);
  }
  if (incoming.effectiveAt < last.effectiveAt) {
    throw new ElectionVersionError(
      `version ${incoming.version} of "${incoming.electionId}" is effective at ${incoming.effectiveAt}, before version ${last.version} (${last.effectiveAt})`,
    );
  }
  return [...versions, incoming];
}

/** The version in force at `ts`: the greatest effectiveAt <= ts (the later version on a tie), if any. */
export function versionAt(history: ElectionHistory | undefined, ts: number): Election | undefined {
  if (history === undefined) return undefined;
  for (let i = history.length - 1; i >= 0; i--) if (history[i].effectiveAt <= ts) return history[i];
  return undefined;
}

/** The next version of `current` with the given changes, effective at `at` (never before `current`). */
export function nextVersion(current: Election, changes: Partial<Omit<Election, 'electionId' | 'version' | 'effectiveAt'>>, at: number): Election {
  return { ...current, ...changes, version: current.version + 1, effectiveAt: Math.max(at, current.effectiveAt) };
}
