/**
 * The framework's error codes: one closed list, so that whatever branches on a code (the CLI's exit
 * codes, the runtime's fatal / infrastructure classification, tests) is checked against every code
 * there is. A new error kind adds its code here, and typecheck then asks for its exit code.
 *
 * It lives on the ground floor with VotestreamError (DESIGN section 2) and names only the framework's
 * own failures: an application built on it keeps its codes in its own `as const` list and throws
 * `VotestreamError<ItsCode>` (see votestream-error.ts).
 */
export const ERROR_CODES = [
  // --- statestores ---
  /** A store was used before open() resolved, or after close(). */
  'STORE_NOT_OPEN',
  /** A store could not be opened (e.g. another process holds the LevelDB lock on its directory). */
  'STORE_OPEN',
  /** A key or value that a store cannot hold faithfully. */
  'STORE_ARGUMENT',
  /** Stored bytes could not be decoded by the store's codec: a codec mismatch or a corrupted store. */
  'STORE_CORRUPTION',
  /** The stores' commit protocol (DESIGN section 4) was broken: always a bug in the caller. */
  'STORE_COMMIT_PROTOCOL',
  /** Writing a committed batch to a store failed (I/O). */
  'STORE_WRITE',
  // --- topology ---
  /** The topology is not valid (a missing serde or store, an unknown name, a bad option). */
  'TOPOLOGY',
  /** A serde could not serialize or deserialize a value. */
  'SERDE',
  // --- runtime ---
  /** Bad options or configuration, found at the edge before anything runs. */
  'CONFIG',
  /** A program or service the command needs is not there. */
  'PREREQUISITE',
  /** A service did not become healthy in time, or stopped answering. */
  'SERVICE_UNAVAILABLE',
  /** A service the work depends on (Kafka, Redis, DynamoDB, LevelDB) is unavailable or refused a request. */
  'INFRASTRUCTURE',
  /** A sink's store no longer holds what it had applied; the task is reopened and replays. */
  'SINK_STATE_LOST',
  /** A sink lost state that Kafka no longer holds, so it cannot be replayed: the thread stops. */
  'SINK_STATE_UNRECOVERABLE',
  /** A source record could not be deserialized under the `fail` policy (carries its RecordContext). */
  'DESERIALIZATION',
  /** A record's processing threw under `processingExceptionHandler: 'fail'` (carries its RecordContext). */
  'PROCESSING_FAILED',
  /** An output record is larger than the topic's message limit (max.message.bytes). */
  'RECORD_TOO_LARGE',
  /** Topics that must be co-partitioned do not have equal partition counts. */
  'COPARTITIONING',
  /** A StreamsApp was started twice, or asked about a failure before it started. */
  'APP_STATE',
  /** A task was used in a state that does not allow the operation (e.g. process before init). */
  'TASK_STATE',
  /** The TopologyTestDriver was used after close(). */
  'DRIVER_CLOSED',
  /** A test's wait on the in-memory fake Kafka (FakeCluster.until) passed its deadline. */
  'FAKE_CLUSTER_TIMEOUT',
  // --- runtime/kafka (the driver) ---
  /** A non-transactional Kafka operation failed (fetch, produce, admin, group membership). */
  'KAFKA',
  /** A transaction was fenced by a newer producer or a newer group generation: it can never commit. */
  'FENCED',
  /** Any other failure of a transactional operation (timeout, coordinator error, invalid state). */
  'TRANSACTION',
  /** The group has no committed offset for a partition and `autoOffsetReset` is 'none'. */
  'NO_OFFSET',
  /** Existing topics do not match what the application needs (partition count, configuration). */
  'TOPIC_MISMATCH',
  // --- infra ---
  /** A child process (a service of the local stack, a worker) could not be started. */
  'PROCESS_START',
  // --- sinks ---
  /** A sink was closed while a write was still retrying. */
  'SINK_CLOSED',
  /** A record a fenced sink cannot fence (e.g. forwarded from a punctuator, offset -1). */
  'SINK_UNFENCEABLE',
  /** A hash-chained log item or chain transaction that breaks the chain's rules (bad attribute, offset, size). */
  'CHAIN_ITEM',
] as const;

/** A code of the framework's errors: one of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const FRAMEWORK_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether `code` is one of the framework's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && FRAMEWORK_CODES.has(code);
}
