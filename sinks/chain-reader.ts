/**
 * Reads one hash chain back from DynamoDB: its head and its entry items in seq order, by a
 * paginated, consistent Query on the chain's pk (the layout's sort keys put the head apart and the
 * entries in seq order).
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { decodeHead, type ChainState, type Item } from './chain-items.js';

export interface ChainContents<E> {
  /** Undefined when the chain has no head item (nothing was ever written). */
  readonly head: ChainState | undefined;
  /** Entries in seq order, including any beyond the head (there should be none). */
  readonly entries: E[];
}

/** Yields the chain's raw items in sort-key order, page by page. */
export async function* chainItems(dynamodb: DynamoDBClient, table: string, chain: string): AsyncGenerator<Item> {
  let start: Item | undefined;
  do {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: chain } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) yield item;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

/** The chain's head and its entries, each decoded by `decodeEntry`. */
export async function readChainItems<E>(dynamodb: DynamoDBClient, table: string, chain: string, headSk: string, decodeEntry: (item: Item) => E): Promise<ChainContents<E>> {
  let head: ChainState | undefined;
  const entries: E[] = [];
  for await (const item of chainItems(dynamodb, table, chain)) {
    if (item.sk?.S === headSk) head = decodeHead(item);
    else entries.push(decodeEntry(item));
  }
  return { head, entries };
}
