/**
 * The feed's audit routes (issue 12): `GET /v1/elections/:id/receipts/:voteId` (once official)
 * and `GET /v1/keys`. A receipt is served in its canonical bytes, so what a voter saves with curl
 * is what `votestream audit check-receipt` accepts.
 *
 * The official item is read on every request (one GetItem): the answer is never older than the
 * table. The chains behind it are read once per official root and kept (ElectionReceipts), for
 * the few most recently asked elections.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../runtime/logger.js';
import { readOfficial } from '../audit/official-result.js';
import { ElectionReceipts } from '../audit/receipt-index.js';
import { serializeReceipt } from '../audit/receipt.js';
import { errorBody, type HttpAnswer } from '../http/uws-http.js';

export interface FeedReceiptsOptions {
  /** Undefined: receipts are not served (the feed was not given DynamoDB). */
  readonly dynamodb: DynamoDBClient | undefined;
  readonly table: string;
  /** The deployment's verifier key, from `--signing-public-key`; undefined: /v1/keys answers 404. */
  readonly vkey: string | undefined;
  readonly logger: Logger;
  /** Elections whose chains are kept in memory. Default 4. */
  readonly maxElections?: number;
}

const notFound = (error: string, message: string): HttpAnswer => ({ status: 404, body: errorBody(error, message) });

export class FeedReceipts {
  readonly #o: FeedReceiptsOptions;
  /** electionId -> the receipts of its official root (insertion order = least recently loaded first). */
  readonly #loaded = new Map<string, { root: string; receipts: Promise<ElectionReceipts> }>();

  constructor(options: FeedReceiptsOptions) {
    this.#o = options;
  }

  keys(): HttpAnswer {
    if (this.#o.vkey === undefined) return notFound('no-key', 'this feed was not given the signing public key (--signing-public-key)');
    return { status: 200, body: JSON.stringify({ keys: [this.#o.vkey] }) };
  }

  async receipt(electionId: string, voteId: string): Promise<HttpAnswer> {
    const dynamodb = this.#o.dynamodb;
    if (dynamodb === undefined) return notFound('no-receipts', 'this feed does not serve receipts (it was given no DynamoDB)');
    const official = await readOfficial(dynamodb, this.#o.table, electionId);
    if (official === undefined) return notFound('not-official', `election ${electionId} has no official result yet`);
    let entry = this.#loaded.get(electionId);
    if (entry?.root !== official.root) {
      entry = { root: official.root, receipts: ElectionReceipts.load({ dynamodb, table: this.#o.table, official }) };
      this.#loaded.delete(electionId);
      this.#loaded.set(electionId, entry);
      const loading = entry;
      // A failed load is forgotten, so the next request tries again.
      entry.receipts.catch((err: unknown) => {
        this.#o.logger.warn({ err: err instanceof Error ? err.message : String(err), electionId }, 'loading the official chains for receipts failed');
        if (this.#loaded.get(electionId) === loading) this.#loaded.delete(electionId);
      });
      while (this.#loaded.size > (this.#o.maxElections ?? 4)) this.#loaded.delete(this.#loaded.keys().next().value!);
    }
    const receipt = await (await entry.receipts).receipt(voteId);
    if (receipt === undefined) return notFound('unknown-vote', `no vote ${JSON.stringify(voteId)} in the official result of ${electionId}`);
    return { status: 200, body: serializeReceipt(receipt) };
  }
}
