import type { Logger } from '../../runtime/logger.js';
import { EXIT } from '../exit-codes.js';

/** One thing `dev` started, and how to stop it. */
export interface ShutdownStep {
  readonly name: string;
  /** The orderly stop: drain, commit, flush. */
  readonly stop: () => Promise<void>;
  /** The stop when the user insists (a second Ctrl-C): only what would outlive this process needs it. */
  readonly kill?: () => Promise<void>;
  /** How long the orderly stop may take before the next step goes ahead anyway. */
  readonly timeoutMs?: number;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * What `dev` started, stopped in reverse order on the first SIGINT/SIGTERM/SIGHUP (or when a part
 * of it dies), killed on a second signal. Steps are added as things start, so an interruption
 * while starting stops exactly what exists by then.
 */
export class DevShutdown {
  readonly #steps: ShutdownStep[] = [];
  readonly #logger: Logger;
  #requestedAt = 0;
  #stopping = false;
  #resolveRequest!: (exitCode: number) => void;
  /** Resolves with the exit code once something asks to stop. */
  readonly requested = new Promise<number>((resolve) => (this.#resolveRequest = resolve));

  constructor(logger: Logger) {
    this.#logger = logger;
    for (const signal of SIGNALS) process.on(signal, this.#onSignal);
  }

  get isRequested(): boolean {
    return this.#requestedAt > 0;
  }

  add(step: ShutdownStep): void {
    this.#steps.push(step);
  }

  /** Asks to stop (a part died): the starting or waiting code calls `stopAll` at its next turn. */
  request(exitCode: number, why: string): void {
    if (this.isRequested) return;
    this.#requestedAt = Date.now();
    this.#logger.warn({ why }, 'stopping everything dev started');
    this.#resolveRequest(exitCode);
  }

  /** Stops every step, last started first; a step that fails or hangs does not hold up the rest. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const step of [...this.#steps].reverse()) {
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), step.timeoutMs ?? 15_000)));
      const outcome = await Promise.race([step.stop().then(() => 'stopped' as const, (err: unknown) => err), timedOut]);
      clearTimeout(timer);
      if (outcome === 'stopped') this.#logger.info({ step: step.name, ms: Date.now() - t0 }, 'stopped');
      else this.#logger.warn({ step: step.name, outcome: outcome === 'timeout' ? 'timed out' : (outcome as Error).message }, 'did not stop cleanly; going on');
    }
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    if (!this.isRequested) {
      // The second counts from the signal's arrival, not from when its log line was written.
      this.#requestedAt = Date.now();
      this.#logger.info({ signal }, 'stopping (signal again to stop at once)');
      this.#resolveRequest(0);
      return;
    }
    // One Ctrl-C under `npm start` can arrive twice (npm passes it on to its child): only a
    // signal a second after the first means "now".
    if (Date.now() - this.#requestedAt < 1000) return;
    void this.#kill(signal);
  };

  async #kill(signal: NodeJS.Signals): Promise<never> {
    this.#logger.warn({ signal, stopping: this.#stopping }, 'second signal: killing what would outlive this process, then exiting');
    await Promise.allSettled(this.#steps.flatMap((step) => (step.kill !== undefined ? [step.kill()] : [])));
    process.exit(EXIT.INTERRUPTED);
  }
}
