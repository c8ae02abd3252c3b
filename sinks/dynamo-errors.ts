/**
 * How the DynamoDB sinks treat a failed request:
 * - `conflict`: a condition failed, that is the chain head is not where this writer thought (a
 *   replay after a crash, or another writer). Re-read the head and continue from it.
 * - `transient`: throttling, a transaction conflict with a concurrent transaction, a 5xx, a network
 *   failure. Retry the same request after a backoff.
 * - `fatal`: anything else (a validation error, a missing table): a bug or a misconfiguration.
 */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TransactionConflictException',
  'LimitExceededException',
  'TimeoutError',
]);
const TRANSIENT_CANCEL_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

export type DynamoFailureKind = 'conflict' | 'transient' | 'fatal';

interface MaybeServiceError {
  name?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  CancellationReasons?: { Code?: string }[];
}

export function classifyDynamoError(err: unknown): DynamoFailureKind {
  if (!(err instanceof Error)) return 'fatal';
  const e = err as Error & MaybeServiceError;
  if (e.name === 'ConditionalCheckFailedException') return 'conflict';
  if (e.name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
    if (codes.includes('ConditionalCheckFailed')) return 'conflict';
    if (codes.some((c) => TRANSIENT_CANCEL_CODES.has(c))) return 'transient';
    return 'fatal';
  }
  if (TRANSIENT_NAMES.has(e.name)) return 'transient';
  if (e.$retryable !== undefined || e.$fault === 'server') return 'transient';
  // No `$fault`: the request never got a service answer (connection refused or reset, socket timeout).
  if (e.$fault === undefined) return 'transient';
  return 'fatal';
}
