import type { ConnectionLimits } from './connection-limits.js';
import type { FeedMetrics, Transport } from './feed-metrics.js';
import type { LiveElections } from './live-elections.js';

/**
 * The clients of one transport, by election, and the bookkeeping of their coming and going: the
 * clients gauge, the limit slot taken at connect, the election's demand (LiveElections).
 */
export class Followers<C> {
  readonly #byElection = new Map<string, Set<C>>();
  readonly #transport: Transport;
  readonly #limits: ConnectionLimits;
  readonly #metrics: FeedMetrics;
  readonly #live: LiveElections;

  constructor(transport: Transport, limits: ConnectionLimits, metrics: FeedMetrics, live: LiveElections) {
    this.#transport = transport;
    this.#limits = limits;
    this.#metrics = metrics;
    this.#live = live;
  }

  /** A client whose limit slot is taken; it will join the election (`LiveElections.join`). */
  enter(electionId: string, client: C): void {
    this.#metrics.clients.inc({ transport: this.#transport });
    let set = this.#byElection.get(electionId);
    if (set === undefined) this.#byElection.set(electionId, (set = new Set()));
    set.add(client);
  }

  /** Once per entered client: gives back its slot and its share of the election's demand. */
  exit(electionId: string, ip: string, client: C): void {
    this.#limits.release(ip);
    this.#metrics.clients.dec({ transport: this.#transport });
    const set = this.#byElection.get(electionId);
    set?.delete(client);
    if (set?.size === 0) this.#byElection.delete(electionId);
    this.#live.leave(electionId);
  }

  of(electionId: string): ReadonlySet<C> | undefined {
    return this.#byElection.get(electionId);
  }

  *all(): Iterable<C> {
    for (const set of this.#byElection.values()) yield* set;
  }
}
