import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  readonly name?: string;
  /** Bound to every line: process, task, ... */
  readonly bindings?: Record<string, string | number>;
  /** Where lines go; defaults to stderr so that stdout stays free for command output (e.g. --json). */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Fields that hold credentials wherever they appear one level deep (a request's headers, an
 * options object): censored even if a future log call passes them by mistake. Secrets are never
 * logged on purpose (test/e2e/secrets-hygiene.test.ts); this is the second line.
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'adminToken',
  '*.adminToken',
  'tokenSecret',
  '*.tokenSecret',
];

/** JSON lines through pino. stderr by default: a CLI's stdout belongs to its result. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
      name: options.name ?? 'votestream',
      base: { pid: process.pid, ...(options.bindings ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    dest,
  );
}
