import type { KeyValueStore } from '../statestores/key-value-store.js';

/**
 * What a global store can say about how current it is: "every record appended to my topic before
 * wall-clock time X has been applied". A processor that must decide the same way on every replay
 * (a decision that depends on what the table held at an instant) waits until the store is complete
 * up to that instant instead of reading whatever a background reader happened to apply so far.
 *
 * The runtime's global stores implement it; a store without it (the TopologyTestDriver's, which
 * applies piped records synchronously) is complete by construction.
 */
export interface GlobalStoreCompleteness {
  /** Wall-clock ms up to which the store is known complete; -1 before the first observation. */
  completeUpToMs(): number;
  /**
   * Resolves once `completeUpToMs() >= timeMs`. Waiting for a future instant waits for the clock to
   * reach it. Rejects only when the store is being closed.
   */
  waitUntilCompleteUpTo(timeMs: number): Promise<void>;
}

export function hasCompleteness(store: KeyValueStore<unknown>): store is KeyValueStore<unknown> & GlobalStoreCompleteness {
  const candidate = store as Partial<GlobalStoreCompleteness>;
  return typeof candidate.completeUpToMs === 'function' && typeof candidate.waitUntilCompleteUpTo === 'function';
}
