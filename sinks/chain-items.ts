/**
 * Pure part of the DynamoDB chain sink: the item formats of an append-only hash chain and the
 * planning of one chain write. No I/O. What a chain holds is the application's (a ChainLayout);
 * this file owns only what makes it a fenced chain.
 *
 * Entry item: pk = the chain key, sk = `layout.entrySk(seq)`, the layout's attributes, and the
 * chain's own: offset (the input offset), prevHash, hash (`layout.hash` of the entry). Head item:
 * pk, sk = `layout.headSk`, lastSeq, lastHash, lastOffset.
 * Watermark item, one per input partition: pk `PARTITION#<ppp>`, sk `WATERMARK`, lastOffset = the
 * highest offset of the partition whose records every chain holds (-1: none yet). Chain keys must
 * therefore not start with `PARTITION#`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { VotestreamError } from '../runtime/errors.js';
import type { SinkRecord } from './sink.js';

export type Item = Record<string, AttributeValue>;

/** The prevHash of a chain's first entry: 64 zeros (a sha256-sized nothing). */
export const CHAIN_GENESIS_HASH = '0'.repeat(64);

/** Where a chain stands: its head item, or the empty state before the first entry. */
export interface ChainState {
  readonly lastSeq: number;
  readonly lastHash: string;
  /** The highest input offset in the chain, -1 when empty: the fence. */
  readonly lastOffset: number;
}

export const EMPTY_CHAIN: ChainState = Object.freeze({ lastSeq: 0, lastHash: CHAIN_GENESIS_HASH, lastOffset: -1 });

/** One entry of a chain, before it becomes an item. */
export interface ChainEntry<K, V> {
  /** The chain key (the items' pk). */
  readonly chain: string;
  /** From 1, one more per entry. */
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** The record's input offset. */
  readonly offset: number;
  readonly record: SinkRecord<K, V>;
}

/** What the application says about its chains. */
export interface ChainLayout<K, V> {
  /**
   * The chain a record is appended to (its items' pk). One chain takes the records of one input
   * partition only: its fence is an offset, and offsets of two partitions do not compare.
   */
  chainKey(record: SinkRecord<K, V>): string;
  /** The entry's sort key; string order must be seq order (zero-pad it). */
  entrySk(seq: number): string;
  /** The head item's sort key; must differ from every entry's. */
  readonly headSk: string;
  /** The entry's hash: the application's preimage, which must include `prevHash` to chain. */
  hash(entry: Omit<ChainEntry<K, V>, 'hash'>): string;
  /** The entry item's attributes besides pk, sk, offset, prevHash and hash. */
  attributes(entry: ChainEntry<K, V>): Item;
}

/**
 * Largest number of entries in one TransactWriteItems: 100 actions, one of which moves the head
 * and one checks the partition's watermark.
 */
export const MAX_ENTRIES_PER_TRANSACTION = 98;

export const WATERMARK_SK = 'WATERMARK';

const WATERMARK_PK_PREFIX = 'PARTITION#';

/** pk of a partition's watermark item. */
export function watermarkPk(partition: number): string {
  return `${WATERMARK_PK_PREFIX}${String(partition).padStart(3, '0')}`;
}

/** Whether a chain key would collide with the watermark items. */
export function isReservedChainKey(chain: string): boolean {
  return chain.startsWith(WATERMARK_PK_PREFIX);
}

export function watermarkKey(partition: number): Item {
  return { pk: { S: watermarkPk(partition) }, sk: { S: WATERMARK_SK } };
}

/** The watermark's lastOffset, or undefined when the item is absent. */
export function decodeWatermark(item: Item | undefined): number | undefined {
  return item === undefined ? undefined : num(item, 'lastOffset');
}

/** A watermark the writer expects: the chain transaction fails unless it exists at `known` or above. */
export interface WatermarkGuard {
  readonly partition: number;
  readonly known: number;
}

export class ChainItemError extends VotestreamError {
  constructor(message: string) {
    super('CHAIN_ITEM', message);
  }
}

/** The entries that append `records` (already above the fence, in offset order) to `state`. */
export function buildEntries<K, V>(layout: ChainLayout<K, V>, chain: string, state: ChainState, records: readonly SinkRecord<K, V>[]): ChainEntry<K, V>[] {
  const entries: ChainEntry<K, V>[] = [];
  let prevHash = state.lastHash;
  let seq = state.lastSeq;
  let lastOffset = state.lastOffset;
  for (const record of records) {
    const { offset } = record;
    if (offset <= lastOffset) throw new ChainItemError(`chain ${chain}: offset ${offset} is not above ${lastOffset}`);
    seq++;
    const unhashed = { chain, seq, prevHash, offset, record };
    const hash = layout.hash(unhashed);
    entries.push({ ...unhashed, hash });
    prevHash = hash;
    lastOffset = offset;
  }
  return entries;
}

/** The chain state after `entries` (which must continue `state`). */
export function stateAfter(state: ChainState, entries: readonly Pick<ChainEntry<unknown, unknown>, 'seq' | 'hash' | 'offset'>[]): ChainState {
  const last = entries[entries.length - 1];
  return last === undefined ? state : { lastSeq: last.seq, lastHash: last.hash, lastOffset: last.offset };
}

export function entryItem<K, V>(layout: ChainLayout<K, V>, entry: ChainEntry<K, V>): Item {
  return {
    ...layout.attributes(entry),
    pk: { S: entry.chain },
    sk: { S: layout.entrySk(entry.seq) },
    offset: { N: String(entry.offset) },
    prevHash: { S: entry.prevHash },
    hash: { S: entry.hash },
  };
}

export function headItem(chain: string, headSk: string, state: ChainState): Item {
  return {
    pk: { S: chain },
    sk: { S: headSk },
    lastSeq: { N: String(state.lastSeq) },
    lastHash: { S: state.lastHash },
    lastOffset: { N: String(state.lastOffset) },
  };
}

/** A string attribute of an item, or ChainItemError. */
export function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new ChainItemError(`item ${item.pk?.S}/${item.sk?.S} has no string attribute ${name}`);
  return v;
}

/** A safe-integer number attribute of an item, or ChainItemError. */
export function num(item: Item, name: string): number {
  const v = item[name]?.N;
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isSafeInteger(n)) throw new ChainItemError(`item ${item.pk?.S}/${item.sk?.S} has no integer attribute ${name}`);
  return n;
}

export function decodeHead(item: Item | undefined): ChainState {
  if (item === undefined) return EMPTY_CHAIN;
  return { lastSeq: num(item, 'lastSeq'), lastHash: str(item, 'lastHash'), lastOffset: num(item, 'lastOffset') };
}

/**
 * The TransactWriteItems actions appending `entries` after `state`: a Put per entry that must not
 * exist yet, and the head Put conditioned on the head the entries were computed from (absent for
 * the first write). The head condition is what serializes writers: two sink instances racing on one
 * chain (a zombie after a rebalance) both compute seq N+1, and only one transaction can win.
 */
export function chainTransaction<K, V>(table: string, layout: ChainLayout<K, V>, state: ChainState, entries: readonly ChainEntry<K, V>[], guard?: WatermarkGuard) {
  if (entries.length === 0 || entries.length > MAX_ENTRIES_PER_TRANSACTION) {
    throw new ChainItemError(`a chain transaction holds 1..${MAX_ENTRIES_PER_TRANSACTION} entries, got ${entries.length}`);
  }
  const chain = entries[0].chain;
  const entryPuts = entries.map((entry) => ({
    Put: { TableName: table, Item: entryItem(layout, entry), ConditionExpression: 'attribute_not_exists(pk)' },
  }));
  const next = stateAfter(state, entries);
  const headPut =
    state.lastSeq === 0
      ? { Put: { TableName: table, Item: headItem(chain, layout.headSk, next), ConditionExpression: 'attribute_not_exists(pk)' } }
      : {
          Put: {
            TableName: table,
            Item: headItem(chain, layout.headSk, next),
            ConditionExpression: 'lastSeq = :prev',
            ExpressionAttributeValues: { ':prev': { N: String(state.lastSeq) } },
          },
        };
  // Last, so that a failed guard is the last cancellation reason (see watermarkGuardFailed).
  const check =
    guard === undefined
      ? []
      : [
          {
            ConditionCheck: {
              TableName: table,
              Key: watermarkKey(guard.partition),
              ConditionExpression: 'lastOffset >= :known',
              ExpressionAttributeValues: { ':known': { N: String(guard.known) } },
            },
          },
        ];
  return [...entryPuts, headPut, ...check];
}

/**
 * Whether a TransactionCanceledException came from the watermark guard of a chain transaction
 * built with one (its last action): the table lost the watermark, so it lost state.
 */
export function watermarkGuardFailed(err: unknown, actions: number): boolean {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] } | null)?.CancellationReasons;
  return Array.isArray(reasons) && reasons.length === actions && reasons[actions - 1]?.Code === 'ConditionalCheckFailed';
}
