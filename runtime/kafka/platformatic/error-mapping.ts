/**
 * How the error trees of @platformatic/kafka 1.35.0 are read and mapped onto the driver's errors.
 *
 * The library wraps protocol errors: a MultipleErrors (`errors`) of ResponseErrors whose inner
 * ProtocolErrors carry the Kafka error name as `apiId`, sometimes behind a `cause`, and a ResponseError
 * keeps the whole decoded `response`. Nothing here depends on the message texts, which change between
 * versions.
 */
import { FencedError, KafkaDriverError, TransactionError } from '../errors.js';

interface ErrorWithTree {
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
  response?: unknown;
}

/** Every Kafka protocol error id (e.g. 'PRODUCER_FENCED') found in an error tree of the library. */
export function kafkaErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const t = e as ErrorWithTree;
    if (typeof t.apiId === 'string') ids.add(t.apiId);
    if (Array.isArray(t.errors)) for (const inner of t.errors) visit(inner);
    visit(t.cause);
  };
  visit(error);
  return ids;
}

export function hasAny(ids: Set<string>, wanted: readonly string[]): string | undefined {
  return wanted.find((w) => ids.has(w));
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const ids = [...kafkaErrorIds(error)];
    return ids.length > 0 ? `${error.message} [${ids.join(', ')}]` : error.message;
  }
  return String(error);
}

/** The first `response` object with per-partition data carried by a (wrapped) ResponseError. */
export function findResponse<T>(error: unknown, has: (r: object) => boolean): T | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): T | undefined => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const t = e as ErrorWithTree;
    if (t.response !== null && typeof t.response === 'object' && has(t.response)) return t.response as T;
    if (Array.isArray(t.errors)) {
      for (const inner of t.errors) {
        const found = visit(inner);
        if (found) return found;
      }
    }
    return visit(t.cause);
  };
  return visit(error);
}

export const PRODUCER_FENCED_IDS = ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTION_COORDINATOR_FENCED'] as const;
export const GROUP_FENCED_IDS = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS'] as const;
export const RETRIABLE_COORDINATOR_IDS = [
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'REQUEST_TIMED_OUT',
  'UNKNOWN_TOPIC_OR_PARTITION',
] as const;
export const STALE_METADATA_IDS = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_OR_PARTITION', 'KAFKA_STORAGE_ERROR', 'NOT_LEADER_FOR_PARTITION'] as const;

/**
 * The driver error for a failed transactional operation of producer `transactionalId` while `what`.
 * Already-mapped errors pass through unchanged. Group fencing is only considered where offsets are sent
 * (`groupFencing`): elsewhere those ids cannot mean that this transaction's offsets were refused.
 */
export function mapTransactionError(error: unknown, transactionalId: string, what: string, groupFencing = false): Error {
  if (error instanceof FencedError || error instanceof TransactionError || error instanceof KafkaDriverError) return error;
  const ids = kafkaErrorIds(error);
  const producerFence = hasAny(ids, PRODUCER_FENCED_IDS);
  if (producerFence) return new FencedError('producer', `producer ${transactionalId} was fenced (${producerFence}) while ${what}`, { cause: error });
  const groupFence = groupFencing ? hasAny(ids, GROUP_FENCED_IDS) : undefined;
  if (groupFence) return new FencedError('group', `offsets of ${transactionalId} rejected (${groupFence}): the group generation is stale`, { cause: error });
  return new TransactionError(`transaction of ${transactionalId} failed while ${what}: ${describe(error)}`, { cause: error });
}

/** The driver error for a failed (non-transactional) offset commit of group `groupId`. */
export function mapCommitError(error: unknown, groupId: string): Error {
  const ids = kafkaErrorIds(error);
  if (hasAny(ids, GROUP_FENCED_IDS)) return new FencedError('group', `offset commit of group ${groupId} rejected: ${describe(error)}`, { cause: error });
  return new KafkaDriverError(`offset commit of group ${groupId} failed: ${describe(error)}`, { cause: error });
}

/**
 * Whether a failed fetch must surface. Stale metadata (a leader moved, a broker restarting) and errors
 * without a Kafka id (connection loss) heal once the metadata is refreshed, unless they keep coming.
 */
export function fetchFailureIsFatal(error: unknown, consecutiveFailures: number): boolean {
  const ids = kafkaErrorIds(error);
  return consecutiveFailures > 20 || (ids.size > 0 && !hasAny(ids, STALE_METADATA_IDS));
}

/** Whether TxnOffsetCommit is worth retrying: a coordinator moving or busy, but never a fence. */
export function isRetriableCoordinatorError(error: unknown): boolean {
  const ids = kafkaErrorIds(error);
  return hasAny(ids, RETRIABLE_COORDINATOR_IDS) !== undefined && hasAny(ids, [...GROUP_FENCED_IDS, ...PRODUCER_FENCED_IDS]) === undefined;
}
