/**
 * The official result of an election (issue 12): a recount signed as a C2SP checkpoint
 * (`votestream/<deployment>/<E>`, tree size = votes, base64 election root), kept in DynamoDB as
 * the item pk `ELECTION#<E>`, sk `OFFICIAL` of `votestream-votes` (the decision: written once, by
 * a conditional put) and shown through Redis `vs:{E}:official` (DESIGN section 3).
 *
 * Republishing the same result (same root, tree and counts) is a no-op that rewrites Redis from
 * the stored item; any other result for the election is refused with OfficialConflictError.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RedisClient } from '../../sinks/redis-client.js';
import { z } from 'zod';
import { InfrastructureError, VotestreamError } from '../../runtime/errors.js';
import type { VotingErrorCode } from '../error-codes.js';
import { electionPk, hashBytes } from '../hash-chain.js';
import { CHECKPOINT_FIELD, officialKey, ROOT_FIELD, TOTAL_FIELD, updatesChannel, VERIFIED_AT_FIELD } from '../redis-keys.js';
import type { Recount } from './recount.js';
import { checkpointText, checkKeyName, encodeVerifierKey, signNote, type NoteSigner } from './signed-note.js';

export const OFFICIAL_SK = 'OFFICIAL';

/** An official result exists and differs from the one being published. */
export class OfficialConflictError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('OFFICIAL_CONFLICT', message);
  }
}

const HEX = /^[0-9a-f]{64}$/;
const counts = z.record(z.string(), z.int().nonnegative());

/** The stored and served form; parsed strictly wherever it is read back. */
export const OfficialResultSchema = z.strictObject({
  electionId: z.string().min(1),
  origin: z.string().min(1),
  total: z.int().nonnegative(),
  counts,
  regions: z.record(z.string(), counts),
  chains: z.array(z.strictObject({ partition: z.int().min(0).max(999), size: z.int().positive(), root: z.string().regex(HEX) })),
  root: z.string().regex(HEX),
  verifiedAt: z.int().nonnegative(),
  checkpoint: z.string().min(1),
  vkey: z.string().min(1),
});
export type OfficialResult = z.infer<typeof OfficialResultSchema>;

/** `votestream/<deployment>/<E>`: the checkpoint's origin line. */
export function checkpointOrigin(deployment: string, electionId: string): string {
  return checkKeyName(`votestream/${deployment}/${electionId}`);
}

/** The recount with its signed checkpoint. */
export function signOfficialResult(recount: Recount, signer: NoteSigner, deployment: string): OfficialResult {
  const origin = checkpointOrigin(deployment, recount.electionId);
  const text = checkpointText({ origin, treeSize: recount.total, root: hashBytes(recount.root, 'election root') });
  return { ...recount, chains: [...recount.chains], origin, checkpoint: signNote(text, signer), vkey: encodeVerifierKey(signer) };
}

/** What makes two results the same result: not when they were verified, nor who signed. */
function substance(r: OfficialResult): string {
  return JSON.stringify([r.electionId, r.origin, r.total, r.root, r.chains, r.counts, r.regions]);
}

export interface PublishOptions {
  readonly dynamodb: DynamoDBClient;
  readonly table: string;
  readonly redis: RedisClient;
  /** The deployment's Redis key prefix (DESIGN section 3). */
  readonly prefix: string;
  readonly result: OfficialResult;
}

export interface Published {
  /** `published`: this call decided the result; `unchanged`: the same result was already official. */
  readonly outcome: 'published' | 'unchanged';
  /** The official result as stored (on `unchanged`, the earlier one: its verifiedAt and checkpoint). */
  readonly result: OfficialResult;
}

/**
 * DynamoDB first (the conditional put decides, so two publishers never both win), then Redis
 * from what DynamoDB holds, then a message on the updates channel so the feed rereads at once.
 */
export async function publishOfficial(o: PublishOptions): Promise<Published> {
  const result = OfficialResultSchema.parse(o.result);
  let outcome: Published['outcome'] = 'published';
  let stored = result;
  try {
    await o.dynamodb.send(
      new PutItemCommand({
        TableName: o.table,
        Item: {
          pk: { S: electionPk(result.electionId) },
          sk: { S: OFFICIAL_SK },
          treeSize: { N: String(result.total) },
          root: { S: result.root },
          verifiedAt: { N: String(result.verifiedAt) },
          result: { S: JSON.stringify(result) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const existing = await readOfficial(o.dynamodb, o.table, result.electionId);
    if (existing === undefined) throw new InfrastructureError(`the official item of ${result.electionId} exists and cannot be read back`);
    if (substance(existing) !== substance(result)) {
      const sameTree = existing.total === result.total && existing.root === result.root;
      throw new OfficialConflictError(
        `election ${result.electionId} already has an official result (${existing.total} votes, root ${existing.root}, verified at ${new Date(existing.verifiedAt).toISOString()}); ` +
          (sameTree ? 'this one has the same tree but other counts' : `this one differs (${result.total} votes, root ${result.root})`) +
          '; an official result is never replaced',
      );
    }
    outcome = 'unchanged';
    stored = existing;
  }
  await writeOfficialToRedis(o.redis, o.prefix, stored);
  return { outcome, result: stored };
}

/** `vs:{E}:official` replaced in one MULTI (candidate -> count, `_total`, `_verifiedAt`, `_root`, `_checkpoint`), then the update message. */
async function writeOfficialToRedis(redis: RedisClient, prefix: string, r: OfficialResult): Promise<void> {
  const key = officialKey(r.electionId, prefix);
  const fields: Record<string, string> = { ...Object.fromEntries(Object.entries(r.counts).map(([c, n]) => [c, String(n)])) };
  fields[TOTAL_FIELD] = String(r.total);
  fields[VERIFIED_AT_FIELD] = String(r.verifiedAt);
  fields[ROOT_FIELD] = r.root;
  fields[CHECKPOINT_FIELD] = r.checkpoint;
  const replies = await redis.multi().del(key).hset(key, fields).publish(updatesChannel(r.electionId, prefix), JSON.stringify({ electionId: r.electionId, official: true })).exec();
  if (replies === null) throw new InfrastructureError(`Redis discarded the MULTI writing ${key}`);
  const failed = replies.find(([e]) => e !== null);
  if (failed !== undefined) throw failed[0] as Error;
}

/** The official result of `electionId`, or undefined before there is one. */
export async function readOfficial(dynamodb: DynamoDBClient, table: string, electionId: string): Promise<OfficialResult | undefined> {
  const answer = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: electionPk(electionId) }, sk: { S: OFFICIAL_SK } }, ConsistentRead: true }));
  const text = answer.Item?.result?.S;
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InfrastructureError(`the official item of ${electionId} is not JSON: ${(err as Error).message}`);
  }
  const parsed = OfficialResultSchema.safeParse(json);
  if (!parsed.success) throw new InfrastructureError(`the official item of ${electionId} is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
