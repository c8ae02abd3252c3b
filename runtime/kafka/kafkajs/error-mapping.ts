/**
 * How kafkajs 2.2.4 errors are read and mapped onto the driver's errors, with the same classes of
 * Kafka error ids as the platformatic driver (../platformatic/error-mapping.ts) so that the runtime sees
 * the same FencedError / TransactionError / KafkaDriverError for the same broker answer.
 *
 * kafkajs puts the Kafka error name in `type` (KafkaJSProtocolError) and wraps: retries exhausted keep
 * the last error as `originalError`, KafkaJSAggregateError lists `errors`, newer errors carry `cause`.
 */
import { FencedError, KafkaDriverError, TransactionError } from '../errors.js';
import { GROUP_FENCED_IDS, PRODUCER_FENCED_IDS, hasAny } from '../platformatic/error-mapping.js';

interface KafkajsErrorTree {
  type?: unknown;
  originalError?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** Every Kafka protocol error id (e.g. 'PRODUCER_FENCED') found in a kafkajs error tree. */
export function kafkajsErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const t = e as KafkajsErrorTree;
    if (typeof t.type === 'string') ids.add(t.type);
    if (Array.isArray(t.errors)) for (const inner of t.errors) visit(inner);
    visit(t.originalError);
    visit(t.cause);
  };
  visit(error);
  return ids;
}

export function describeKafkajs(error: unknown): string {
  if (error instanceof Error) {
    const ids = [...kafkajsErrorIds(error)];
    return ids.length > 0 ? `${error.message} [${ids.join(', ')}]` : error.message;
  }
  return String(error);
}

/** As mapTransactionError of the platformatic driver: producer fences first, group fences only where offsets are sent. */
export function mapKafkajsTransactionError(error: unknown, transactionalId: string, what: string, groupFencing = false): Error {
  if (error instanceof FencedError || error instanceof TransactionError || error instanceof KafkaDriverError) return error;
  const ids = kafkajsErrorIds(error);
  const producerFence = hasAny(ids, PRODUCER_FENCED_IDS);
  if (producerFence) return new FencedError('producer', `producer ${transactionalId} was fenced (${producerFence}) while ${what}`, { cause: error });
  const groupFence = groupFencing ? hasAny(ids, GROUP_FENCED_IDS) : undefined;
  if (groupFence) return new FencedError('group', `offsets of ${transactionalId} rejected (${groupFence}): the group generation is stale`, { cause: error });
  return new TransactionError(`transaction of ${transactionalId} failed while ${what}: ${describeKafkajs(error)}`, { cause: error });
}

export function mapKafkajsCommitError(error: unknown, groupId: string): Error {
  if (hasAny(kafkajsErrorIds(error), GROUP_FENCED_IDS)) return new FencedError('group', `offset commit of group ${groupId} rejected: ${describeKafkajs(error)}`, { cause: error });
  return new KafkaDriverError(`offset commit of group ${groupId} failed: ${describeKafkajs(error)}`, { cause: error });
}
