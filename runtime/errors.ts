/**
 * The runtime's typed errors; the base class is on the ground floor (statestores/votestream-error.ts).
 */
import type { ErrorCode } from '../statestores/error-codes.js';
import { VotestreamError } from '../statestores/votestream-error.js';

export { VotestreamError };
export { ERROR_CODES, isErrorCode, type ErrorCode } from '../statestores/error-codes.js';

/** Bad options or configuration, found at the edge before anything runs. */
export class ConfigError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

/** A program or service the command needs is not there. */
export class PrerequisiteError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PREREQUISITE', message, options);
  }
}

/** A service did not become healthy in time, or stopped answering. */
export class ServiceUnavailableError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVICE_UNAVAILABLE', message, options);
  }
}

/**
 * A service the work depends on (Kafka, Redis, DynamoDB, LevelDB) is unavailable or refused a
 * request. Never a record error (DESIGN section 4): the runtime never dead-letters because of it;
 * it drops the uncommitted work, backs off, replays from committed state and reports not ready.
 */
export class InfrastructureError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown; code?: Extract<ErrorCode, 'INFRASTRUCTURE' | 'SINK_STATE_LOST'> }) {
    super(options?.code ?? 'INFRASTRUCTURE', message, options);
  }
}

/**
 * A sink found that its store no longer holds what it had applied (Redis restarted empty or
 * rolled back, a FLUSHALL, a DynamoDB table or chain gone). The runtime closes and reopens the
 * task: the sink's `open()` then reports how far its store really got, and the task replays from
 * there (DESIGN section 4: a sink never continues over lost state).
 */
export class SinkStateLostError extends InfrastructureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'SINK_STATE_LOST' });
  }
}
