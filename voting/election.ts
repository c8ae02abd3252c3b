/**
 * The election record (DESIGN section 3): the value of the compacted `elections` topic and of the
 * `votestream-elections` table. Pure: no I/O, no clock.
 *
 * Unknown fields are stripped, not rejected (unlike votes): every process reads `elections`, and a
 * worker that could not read an election written by a newer admin would turn all of its votes into
 * `unknown-election`. Identifiers follow the vote's `ID_PATTERN`, so candidate ids can never collide
 * with the reserved `_`-fields of the Redis count hashes.
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { formatZodError, idSchema, MAX_CANDIDATE_ID_LENGTH, MAX_ELECTION_ID_LENGTH, MAX_REGION_LENGTH } from './vote.js';

export const MAX_TITLE_LENGTH = 256;
export const MAX_CANDIDATE_NAME_LENGTH = 256;
export const MAX_CANDIDATES = 10_000;
export const MAX_REGIONS = 10_000;

export const ELECTION_STATUSES = ['draft', 'open', 'closed'] as const;
export type ElectionStatus = (typeof ELECTION_STATUSES)[number];

export const CandidateSchema = z.object({
  id: idSchema(MAX_CANDIDATE_ID_LENGTH),
  name: z.string().min(1, { abort: true }).max(MAX_CANDIDATE_NAME_LENGTH),
});
export type Candidate = z.infer<typeof CandidateSchema>;

const msInstant = () => z.int().min(0);

export const ElectionSchema = z
  .object({
    electionId: idSchema(MAX_ELECTION_ID_LENGTH),
    title: z.string().min(1).max(MAX_TITLE_LENGTH),
    candidates: z.array(CandidateSchema).min(1).max(MAX_CANDIDATES),
    regions: z.array(idSchema(MAX_REGION_LENGTH)).max(MAX_REGIONS),
    /** First millisecond (inclusive) at which a vote's `ts` counts. */
    opensAt: msInstant(),
    /** Last millisecond (inclusive) at which a vote's `ts` counts. */
    closesAt: msInstant(),
    status: z.enum(ELECTION_STATUSES),
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

/** Encodes an election as UTF-8 JSON (schema field order). */
export function encodeElection(election: Election): Buffer {
  const { electionId, title, candidates, regions, opensAt, closesAt, status } = election;
  return Buffer.from(
    JSON.stringify({
      electionId,
      title,
      candidates: candidates.map(({ id, name }) => ({ id, name })),
      regions,
      opensAt,
      closesAt,
      status,
    }),
    'utf8',
  );
}
