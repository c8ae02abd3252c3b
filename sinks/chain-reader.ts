/**
 * Reads one hash chain back from DynamoDB: its head and its vote items in seq order, by a
 * paginated, consistent Query on the chain's pk (`HEAD` sorts before `VOTE#...`, and the 12-digit
 * seq makes string order seq order).
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { chainPk, HEAD_SK } from '../voting/hash-chain.js';
import { decodeHead, decodeVoteItem, type ChainState, type Item, type StoredVote } from './chain-items.js';

export interface ChainContents {
  /** Undefined when the chain has no head item (no vote was ever written). */
  readonly head: ChainState | undefined;
  /** Vote items in seq order, including any beyond the head (there should be none). */
  readonly votes: StoredVote[];
}

/** Yields the chain's raw items (head first, then votes in seq order), page by page. */
export async function* chainItems(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number): AsyncGenerator<Item> {
  let start: Item | undefined;
  do {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: chainPk(electionId, partition) } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) yield item;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

export async function readChain(dynamodb: DynamoDBClient, table: string, electionId: string, partition: number): Promise<ChainContents> {
  let head: ChainState | undefined;
  const votes: StoredVote[] = [];
  for await (const item of chainItems(dynamodb, table, electionId, partition)) {
    if (item.sk?.S === HEAD_SK) head = decodeHead(item);
    else votes.push(decodeVoteItem(item));
  }
  return { head, votes };
}
