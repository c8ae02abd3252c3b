import type { Argv } from 'yargs';
import type { Logger } from '../runtime/logger.js';
import { ConfigError } from '../runtime/errors.js';
import { withoutOptions } from './commands/worker.js';
import { superviseWorkers } from './worker-supervisor.js';

/** The options every HTTP service command has (gateway, feed): where it listens, its copies, its proxies. */
export interface ServiceArgs {
  port: number;
  host: string;
  processes: number;
  trustedProxies: string[];
}

/** Declares ServiceArgs; `what` names the service in the help text. */
export function serviceOptions<T>(y: Argv<T>, defaultPort: number, what: string): Argv<T & ServiceArgs> {
  return y
    .option('port', { type: 'number', default: defaultPort })
    .option('host', { type: 'string', default: '0.0.0.0' })
    .option('processes', { type: 'number', default: 1, describe: `${what} processes sharing the port (restarted with backoff if they crash)` })
    .option('trusted-proxies', { type: 'string', array: true, default: [] as string[], describe: 'peers whose X-Forwarded-For is believed' }) as unknown as Argv<T & ServiceArgs>;
}

export interface CopiesOptions {
  readonly processes: number;
  /** The hidden option that numbers a copy, e.g. `feed-index`. */
  readonly indexOption: string;
  readonly logger: Logger;
}

/**
 * `--processes N` of an HTTP service (gateway, feed): N copies of the same command share the port
 * (uWS listens with SO_REUSEPORT), restarted with backoff if they crash. Resolves true in the
 * supervisor, once its copies are gone (process.exitCode set); false in a copy, which serves.
 */
export async function superviseCopies(o: CopiesOptions): Promise<boolean> {
  if (!Number.isInteger(o.processes) || o.processes < 1) throw new ConfigError(`--processes must be a positive integer, got ${o.processes}`);
  if (o.processes === 1) return false;
  const passOn = withoutOptions(process.argv.slice(2), ['processes', o.indexOption]);
  process.exitCode = await superviseWorkers({
    processes: o.processes,
    logger: o.logger,
    argsFor: (i) => [...passOn, '--processes', '1', `--${o.indexOption}`, String(i)],
  });
  return true;
}

/** Serves until SIGINT or SIGTERM, then `close()` and exit 0. Never resolves. */
export async function serveUntilSignal(logger: Logger, closing: string, close: () => Promise<void>): Promise<never> {
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Ctrl-C reaches a supervised copy twice (its process group and the supervisor): only a
    // signal a second after the first means "now".
    if (firstSignalAt > 0) {
      if (Date.now() - firstSignalAt > 1000) process.exit(130);
      return;
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, closing);
    void close().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return new Promise<never>(() => undefined);
}
