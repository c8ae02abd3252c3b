import { VotestreamError } from '../runtime/errors.js';

/**
 * The benchmarks' error codes, their own closed list beside the framework's ERROR_CODES and the
 * voting application's VOTING_ERROR_CODES; the CLI's exit-code table is keyed by all three.
 */
export const BENCHMARK_ERROR_CODES = [
  /** A run's outputs are not exactly what it had to produce (a count, a record set, a profile). */
  'BENCHMARK_OUTPUT',
  /** A run did not finish within its timeout. */
  'BENCHMARK_TIMEOUT',
  /** A worker process exited while the run needed it. */
  'BENCHMARK_WORKER_EXITED',
] as const;

/** A code of the benchmarks' errors: one of BENCHMARK_ERROR_CODES. */
export type BenchmarkErrorCode = (typeof BENCHMARK_ERROR_CODES)[number];

/** A benchmark run failed: its result would not be a measurement of a correct run. */
export class BenchmarkError extends VotestreamError<BenchmarkErrorCode> {}
