import {
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { VotestreamError } from '../../statestores/votestream-error.js';
import { decodeElection, encodeElection, type Election } from '../election.js';
import type { VotingErrorCode } from '../error-codes.js';

/** Two admins wrote the same version of an election: the later one must reread and retry. */
export class ElectionConflictError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('ELECTION_CONFLICT', message);
  }
}

const versionSk = (version: number): string => `V#${String(version).padStart(10, '0')}`;

function toItem(e: Election): Record<string, AttributeValue> {
  return {
    pk: { S: e.electionId },
    sk: { S: versionSk(e.version) },
    version: { N: String(e.version) },
    effectiveAt: { N: String(e.effectiveAt) },
    // The version exactly as published on `elections`, so the two can be compared byte for byte.
    doc: { S: encodeElection(e).toString('utf8') },
  };
}

function fromItem(item: Record<string, AttributeValue>): Election {
  const decoded = decodeElection(item.doc?.S);
  if (!decoded.ok) throw new VotestreamError<VotingErrorCode>('ELECTION_VERSION', `election item ${item.pk?.S}/${item.sk?.S} does not decode: ${decoded.error}`);
  return decoded.election;
}

/**
 * The `votestream-elections` table, the source of truth for election versions (DESIGN section 3):
 * pk = electionId, sk = `V#<version, 10 digits>`, one item per version, never updated. A version n
 * is written only if n-1 exists and n does not, in one transaction, so two admins cannot both
 * write version n.
 */
export class ElectionStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async history(electionId: string): Promise<Election[]> {
    const out: Election[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :e AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':e': { S: electionId }, ':v': { S: 'V#' } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  /** Every version of every election, grouped by election id (sorted), each in version order. */
  async all(): Promise<Map<string, Election[]>> {
    const byId = new Map<string, Election[]>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const e = fromItem(item);
        byId.set(e.electionId, [...(byId.get(e.electionId) ?? []), e]);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    for (const versions of byId.values()) versions.sort((a, b) => a.version - b.version);
    return new Map([...byId.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  async append(e: Election): Promise<void> {
    const put = { TableName: this.table, Item: toItem(e), ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      if (e.version === 1) {
        await this.client.send(new PutItemCommand(put));
        return;
      }
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: put },
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { pk: { S: e.electionId }, sk: { S: versionSk(e.version - 1) } },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof TransactionCanceledException) {
        throw new ElectionConflictError(
          e.version === 1 ? `election "${e.electionId}" exists already` : `version ${e.version} of "${e.electionId}" was written by someone else, or version ${e.version - 1} is missing: reread and retry`,
        );
      }
      throw error;
    }
  }
}
