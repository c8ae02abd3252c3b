import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { decideVote } from '../decide.js';
import type { Election } from '../election.js';
import { formatZodError, idSchema, MAX_CANDIDATE_ID_LENGTH, MAX_REGION_LENGTH, type Vote } from '../vote.js';
import { rejection, type GatewayRejection } from './gateway-errors.js';

/** The most a vote request's body may weigh (DESIGN section 3). */
export const MAX_BODY_BYTES = 1024;

/** What a voter sends; everything else in the vote the gateway sets itself. Unknown fields are refused. */
export const VoteRequestSchema = z.strictObject({
  candidateId: idSchema(MAX_CANDIDATE_ID_LENGTH),
  region: idSchema(MAX_REGION_LENGTH).optional(),
  voteId: z.uuid({ error: 'must be a UUID' }).optional(),
});

export type VoteRequestResult = { readonly ok: true; readonly vote: Vote } | ({ readonly ok: false } & GatewayRejection);

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

export function isJsonContentType(contentType: string): boolean {
  return JSON_TYPE.test(contentType);
}

/**
 * Turns a request body into the vote to produce, judged against the version in force now: the same
 * rule the workers apply later by the vote's own `ts` (decide.ts), so what the gateway refuses here
 * the workers would reject anyway.
 */
export function voteFromRequest(body: Buffer, electionId: string, voterId: string, version: Election | undefined, nowMs: number): VoteRequestResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, ...rejection('malformed', 'the body is not valid JSON') };
  }
  const parsed = VoteRequestSchema.safeParse(json);
  if (!parsed.success) return { ok: false, ...rejection('malformed', formatZodError(parsed.error, json)) };
  const { candidateId, region, voteId } = parsed.data;
  const vote: Vote = { voteId: voteId ?? randomUUID(), electionId, voterId, candidateId, ...(region === undefined ? {} : { region }), ts: nowMs };
  switch (decideVote(vote, version)) {
    case undefined:
      return { ok: true, vote };
    case 'unknown-election':
      return { ok: false, ...rejection('unknown-election', `no election "${electionId}"`) };
    case 'unknown-candidate':
      return { ok: false, ...rejection('unknown-candidate', `election "${electionId}" has no candidate "${candidateId}"`) };
    case 'closed':
      return { ok: false, ...rejection('not-open', `election "${electionId}" is not open for votes now`) };
    default:
      return { ok: false, ...rejection('malformed', `region "${region ?? ''}" is not one of election "${electionId}"'s regions`) };
  }
}
