import { StoreArgumentError } from '../statestores/errors.js';
import { TopologyError } from '../topology/topology-error.js';
import { ConfigError, InfrastructureError, isErrorCode, VotestreamError, type ErrorCode } from './errors.js';

/**
 * Codes of errors that say a service (Kafka, LevelDB, a sink's store) failed, not the record being
 * processed: the runtime keeps the batch (replays it from committed state) instead of
 * dead-lettering it (DESIGN section 4).
 */
const INFRASTRUCTURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['KAFKA', 'TRANSACTION', 'FENCED', 'STORE_OPEN', 'STORE_NOT_OPEN', 'STORE_WRITE', 'STORE_CORRUPTION', 'SINK_CLOSED']);

/** Whether `err` is a failure of the machinery around a record rather than of the record itself. */
export function isInfrastructureError(err: unknown): boolean {
  if (err instanceof InfrastructureError) return true;
  if (err instanceof StoreArgumentError) return false;
  if (err instanceof VotestreamError) return isErrorCode(err.code) && INFRASTRUCTURE_CODES.has(err.code);
  // classic-level reports its own failures with LEVEL_* codes (not open, I/O, corruption).
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('LEVEL_');
}

const FATAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['STORE_COMMIT_PROTOCOL', 'NO_OFFSET', 'SINK_STATE_UNRECOVERABLE', 'PROCESSING_FAILED', 'COPARTITIONING']);

/**
 * Errors no retry can mend: the topology or its configuration is wrong, or the commit protocol was
 * broken (a bug). Everything else is waited out with backoff, however long it lasts.
 */
export function isFatalError(err: unknown): boolean {
  if (err instanceof ConfigError || err instanceof TopologyError) return true;
  return err instanceof VotestreamError && isErrorCode(err.code) && FATAL_CODES.has(err.code);
}
