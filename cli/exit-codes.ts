import { BENCHMARK_ERROR_CODES, type BenchmarkErrorCode } from '../benchmarks/errors.js';
import { ERROR_CODES, VotestreamError, type ErrorCode } from '../runtime/errors.js';
import { VOTING_ERROR_CODES, type VotingErrorCode } from '../voting/error-codes.js';

/** Every code a VotestreamError reaching the CLI can carry: the framework's, the application's, the benchmarks'. */
export type CliErrorCode = ErrorCode | VotingErrorCode | BenchmarkErrorCode;

export const CLI_ERROR_CODES: readonly CliErrorCode[] = [...ERROR_CODES, ...VOTING_ERROR_CODES, ...BENCHMARK_ERROR_CODES];

/** The process's exit codes (README, CLI section), so scripts can tell a usage mistake from a service that is down. */
export const EXIT = {
  /** The command did what it was asked. */
  SUCCESS: 0,
  /** It failed: an unexpected error, or one with no more specific code below. */
  FAILURE: 1,
  /** Bad usage (unknown command or option, missing argument) or configuration. */
  USAGE: 2,
  /** A program or service the command needs is not there (the message names it and how to install it). */
  PREREQUISITE: 3,
  /** A service does not answer, or refused the work. */
  SERVICE: 4,
  /** `rebuild store` found differences it did not repair (without `--swap`). */
  STORE_DIFFERENCES: 5,
  /** `rebuild redis` found the count path running. */
  COUNT_PATH_RUNNING: 6,
  /** `audit verify` / `audit invariants` found a discrepancy: the vote log or a source disagrees (the report names it). */
  AUDIT_DISCREPANCY: 7,
  /** Interrupted: a second SIGINT / SIGTERM stopped the process at once. */
  INTERRUPTED: 130,
} as const;

/**
 * The exit code of each error code. Keyed by every code there is, so a new code without an exit
 * code fails typecheck.
 */
export const EXIT_CODES: Readonly<Record<CliErrorCode, number>> = {
  // Bad input, found before anything runs.
  CONFIG: EXIT.USAGE,
  PREREQUISITE: EXIT.PREREQUISITE,
  // A service that does not answer or refuses.
  SERVICE_UNAVAILABLE: EXIT.SERVICE,
  INFRASTRUCTURE: EXIT.SERVICE,
  // The application's.
  COUNT_PATH_RUNNING: EXIT.COUNT_PATH_RUNNING,
  // Everything else is a failure of the command itself.
  STORE_NOT_OPEN: EXIT.FAILURE,
  STORE_OPEN: EXIT.FAILURE,
  STORE_ARGUMENT: EXIT.FAILURE,
  STORE_CORRUPTION: EXIT.FAILURE,
  STORE_COMMIT_PROTOCOL: EXIT.FAILURE,
  STORE_WRITE: EXIT.FAILURE,
  TOPOLOGY: EXIT.FAILURE,
  SERDE: EXIT.FAILURE,
  SINK_STATE_LOST: EXIT.FAILURE,
  SINK_STATE_UNRECOVERABLE: EXIT.FAILURE,
  DESERIALIZATION: EXIT.FAILURE,
  PROCESSING_FAILED: EXIT.FAILURE,
  RECORD_TOO_LARGE: EXIT.FAILURE,
  COPARTITIONING: EXIT.FAILURE,
  APP_STATE: EXIT.FAILURE,
  TASK_STATE: EXIT.FAILURE,
  DRIVER_CLOSED: EXIT.FAILURE,
  FAKE_CLUSTER_TIMEOUT: EXIT.FAILURE,
  KAFKA: EXIT.FAILURE,
  FENCED: EXIT.FAILURE,
  TRANSACTION: EXIT.FAILURE,
  NO_OFFSET: EXIT.FAILURE,
  TOPIC_MISMATCH: EXIT.FAILURE,
  PROCESS_START: EXIT.FAILURE,
  SINK_CLOSED: EXIT.FAILURE,
  SINK_UNFENCEABLE: EXIT.FAILURE,
  CHAIN_ITEM: EXIT.FAILURE,
  VOTE_FORMAT: EXIT.FAILURE,
  HASH_CHAIN: EXIT.FAILURE,
  ELECTION_VERSION: EXIT.FAILURE,
  ELECTION_INVALID: EXIT.USAGE,
  ELECTION_NOT_FOUND: EXIT.FAILURE,
  ELECTION_CONFLICT: EXIT.FAILURE,
  SIGNED_NOTE: EXIT.FAILURE,
  SIGNING_KEY: EXIT.USAGE,
  RECOUNT_REFUSED: EXIT.FAILURE,
  OFFICIAL_CONFLICT: EXIT.FAILURE,
  RECEIPT_INVALID: EXIT.FAILURE,
  AUDIT_DISCREPANCY: EXIT.AUDIT_DISCREPANCY,
  BENCHMARK_OUTPUT: EXIT.FAILURE,
  BENCHMARK_TIMEOUT: EXIT.FAILURE,
  BENCHMARK_WORKER_EXITED: EXIT.FAILURE,
};

function isCliErrorCode(code: unknown): code is CliErrorCode {
  return typeof code === 'string' && Object.hasOwn(EXIT_CODES, code);
}

/** The exit code for `err`: by its code for a VotestreamError, FAILURE for anything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof VotestreamError && isCliErrorCode(err.code)) return EXIT_CODES[err.code];
  return EXIT.FAILURE;
}
