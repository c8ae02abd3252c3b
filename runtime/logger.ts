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

/** JSON lines through pino. stderr by default: a CLI's stdout belongs to its result. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
      name: options.name ?? 'votestream',
      base: { pid: process.pid, ...(options.bindings ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest,
  );
}
