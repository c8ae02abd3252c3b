import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../runtime/logger.js';
import { EXIT } from './exit-codes.js';

export interface SupervisorOptions {
  readonly processes: number;
  /** Arguments for child i (node runs them with this CLI's entry point). */
  readonly argsFor: (index: number) => string[];
  readonly logger: Logger;
  /** First restart delay; doubles per consecutive crash of the same slot, up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Runs N worker processes (one consumer-group member each) and restarts a crashed one with
 * backoff. SIGTERM/SIGINT are passed on (children finish their batch, commit and exit); a second
 * signal kills them at once. Resolves with the exit code once every child has exited on request.
 */
export function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { processes, logger } = options;
  const initial = options.initialBackoffMs ?? 500;
  const max = options.maxBackoffMs ?? 30_000;
  const children = new Map<number, ChildProcess>();
  const crashes = new Map<number, number>();
  let stopping = false;
  let exitCode = 0;

  return new Promise<number>((resolve) => {
    const start = (index: number): void => {
      const child = spawn(process.execPath, [process.argv[1], ...options.argsFor(index)], { stdio: ['ignore', 'inherit', 'inherit'] });
      children.set(index, child);
      const startedAt = Date.now();
      logger.info({ worker: index, pid: child.pid }, 'worker process started');
      child.once('exit', (code, signal) => {
        children.delete(index);
        if (stopping) {
          logger.info({ worker: index, code, signal }, 'worker process exited');
          if (children.size === 0) resolve(exitCode);
          return;
        }
        // Bad configuration or a missing prerequisite does not heal by restarting: stop them all and say so.
        if (code === EXIT.USAGE || code === EXIT.PREREQUISITE) {
          logger.error({ worker: index, code }, 'worker process refused its configuration; stopping all (see its message above)');
          stopping = true;
          for (const other of children.values()) other.kill('SIGTERM');
          if (children.size === 0) resolve(code);
          else exitCode = code;
          return;
        }
        // A worker that ran for a minute had recovered: its next crash starts the backoff afresh.
        const n = Date.now() - startedAt > 60_000 ? 1 : (crashes.get(index) ?? 0) + 1;
        crashes.set(index, n);
        const delay = Math.min(initial * 2 ** (n - 1), max);
        logger.warn({ worker: index, code, signal, restartInMs: delay, crashes: n }, 'worker process died; restarting');
        setTimeout(() => {
          if (!stopping) start(index);
        }, delay);
      });
    };

    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      stopping = true;
      if (signals === 1) {
        logger.info({ signal: sig }, 'stopping workers (send again to kill)');
        for (const child of children.values()) child.kill('SIGTERM');
      } else {
        for (const child of children.values()) child.kill('SIGKILL');
        process.exit(130);
      }
      if (children.size === 0) resolve(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    for (let i = 0; i < processes; i++) start(i);
  });
}
