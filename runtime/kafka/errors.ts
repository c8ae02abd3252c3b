import { VotestreamError } from '../errors.js';

/**
 * Why a transaction was fenced (DESIGN section 4):
 * - `producer`: another producer with the same transactionalId was initialised (ProducerFenced,
 *   InvalidProducerEpoch, TransactionCoordinatorFenced). This producer is dead: close it and create a new
 *   one (which aborts whatever the broker still has open for the id).
 * - `group`: the consumer-group generation the offsets were sent with is no longer current
 *   (IllegalGeneration, UnknownMemberId, FencedInstanceId on TxnOffsetCommit, KIP-447). The producer is
 *   still usable: abort the transaction, drop the buffers, close the tasks and continue polling (the
 *   next poll delivers the rebalance).
 */
export type FenceKind = 'producer' | 'group';

/** The transaction can never commit; nothing of it is visible to read_committed readers. */
export class FencedError extends VotestreamError {
  readonly kind: FenceKind;
  constructor(kind: FenceKind, message: string, options?: { cause?: unknown }) {
    super('FENCED', message, options);
    this.kind = kind;
  }
}

/**
 * Any other failure of a transactional operation (timeouts, coordinator errors after retries, invalid
 * state). `abortable` says whether `abort()` is worth trying; when it is false, or when abort fails as
 * well, close the producer and create a new one.
 */
export class TransactionError extends VotestreamError {
  readonly abortable: boolean;
  constructor(message: string, options?: { cause?: unknown; abortable?: boolean }) {
    super('TRANSACTION', message, options);
    this.abortable = options?.abortable ?? true;
  }
}

/** A non-transactional Kafka operation failed (fetch, produce, admin, group membership). */
export class KafkaDriverError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KAFKA', message, options);
  }
}

/** The group consumer has no committed offset for a partition and `autoOffsetReset` is 'none'. */
export class NoOffsetError extends VotestreamError {
  constructor(message: string) {
    super('NO_OFFSET', message);
  }
}
