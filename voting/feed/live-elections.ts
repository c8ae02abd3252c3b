import type { RedisClient } from '../../sinks/redis-client.js';
import { ServiceUnavailableError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { FeedMetrics } from './feed-metrics.js';
import { contentKey, readElectionHashes, serializeSnapshot, snapshotOf, type Snapshot } from './snapshot.js';
import type { UpdatesSubscriber } from './updates-subscriber.js';

/** A snapshot and its one serialization, shared by every client of the election. */
export interface SerializedSnapshot {
  readonly snapshot: Snapshot;
  readonly text: string;
}

export interface LiveElectionsOptions {
  readonly reader: RedisClient;
  readonly updates: UpdatesSubscriber;
  readonly prefix: string;
  /** At most one snapshot per election per interval. */
  readonly intervalMs: number;
  /**
   * Every election with clients is reread this often even without an update message: what changes
   * without one (the official result written by the audit) or whose message was lost (published
   * while the subscriber was reconnecting) still reaches the clients. Sent only if it changed.
   */
  readonly refreshMs: number;
  readonly logger: Logger;
  readonly metrics: FeedMetrics;
  readonly nowMs: () => number;
  /** A new snapshot of an election with clients; `sinceUpdate`: when the first update it covers arrived (performance.now()). */
  readonly onSnapshot: (electionId: string, s: SerializedSnapshot, sinceUpdate: number | undefined) => void;
}

interface LiveElection {
  readonly electionId: string;
  clients: number;
  current: (SerializedSnapshot & { readonly key: string }) | undefined;
  loading: Promise<void> | undefined;
  /** An update arrived that no snapshot covers yet. */
  dirty: boolean;
  /** Send the next snapshot even if unchanged (after a Redis reconnect). */
  force: boolean;
  pendingSince: number | undefined;
  timer: NodeJS.Timeout | undefined;
  reading: boolean;
  lastReadAt: number;
}

/**
 * The elections that have clients: one Redis subscription each (taken with the first client, given
 * back with the last), and the conflation: updates only mark an election dirty; a timer rereads
 * the hashes at most once per interval and hands on a snapshot only when its content changed.
 * Reads of one election never overlap, so snapshots leave in the order Redis held them.
 */
export class LiveElections {
  readonly #o: LiveElectionsOptions;
  readonly #elections = new Map<string, LiveElection>();
  readonly #refresh: NodeJS.Timeout;

  constructor(options: LiveElectionsOptions) {
    this.#o = options;
    this.#refresh = setInterval(() => {
      for (const e of this.#elections.values()) {
        e.dirty = true;
        this.#schedule(e);
      }
    }, options.refreshMs);
    this.#refresh.unref();
  }

  /**
   * Counts a client in and resolves with the election's current snapshot. Every call, resolved or
   * not, is matched by one `leave`.
   */
  async join(electionId: string): Promise<SerializedSnapshot> {
    let e = this.#elections.get(electionId);
    if (e === undefined) {
      e = { electionId, clients: 0, current: undefined, loading: undefined, dirty: false, force: false, pendingSince: undefined, timer: undefined, reading: false, lastReadAt: 0 };
      this.#elections.set(electionId, e);
      this.#o.metrics.electionsFollowed.set(this.#elections.size);
      const election = e;
      // Subscribe first, then read: an update landing in between only causes one more read.
      election.loading = this.#o.updates.add(electionId).then(() => this.#read(election, true));
      election.loading.catch(() => undefined);
    }
    e.clients++;
    // A failed first load fails every join waiting on it; the entry goes with its last client.
    if (e.current === undefined) await e.loading;
    if (e.current === undefined) await this.#read(e, true);
    if (e.current === undefined) throw new ServiceUnavailableError(`the feed cannot read election ${electionId} from Redis`);
    return e.current;
  }

  leave(electionId: string): void {
    const e = this.#elections.get(electionId);
    if (e === undefined || --e.clients > 0) return;
    clearTimeout(e.timer);
    this.#elections.delete(electionId);
    this.#o.metrics.electionsFollowed.set(this.#elections.size);
    this.#o.updates.remove(electionId).catch((error: unknown) => this.#o.logger.warn({ err: error, electionId }, 'unsubscribing from an election failed'));
  }

  /** The latest snapshot sent for an election with clients. */
  current(electionId: string): SerializedSnapshot | undefined {
    return this.#elections.get(electionId)?.current;
  }

  /** An update message arrived on the election's channel. */
  updated(electionId: string, receivedAt: number): void {
    const e = this.#elections.get(electionId);
    if (e === undefined) return;
    e.dirty = true;
    e.pendingSince ??= receivedAt;
    this.#schedule(e);
  }

  /** After Redis came back: every election gets a fresh snapshot, changed or not. */
  refreshAll(): void {
    // No pendingSince: a reconnect is not an update, and would only blur the latency histogram.
    for (const e of this.#elections.values()) {
      e.dirty = true;
      e.force = true;
      this.#schedule(e);
    }
  }

  close(): void {
    clearInterval(this.#refresh);
    for (const e of this.#elections.values()) clearTimeout(e.timer);
    this.#elections.clear();
  }

  #schedule(e: LiveElection): void {
    if (e.timer !== undefined || e.reading || e.current === undefined) return;
    const delay = Math.max(0, e.lastReadAt + this.#o.intervalMs - performance.now());
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.#read(e, false);
    }, delay);
  }

  /** One read of the election's hashes; `initial`: the first, which nobody is subscribed to yet. */
  async #read(e: LiveElection, initial: boolean): Promise<void> {
    if (e.reading) return;
    e.reading = true;
    e.lastReadAt = performance.now();
    const since = e.pendingSince;
    const force = e.force;
    e.dirty = false;
    e.force = false;
    e.pendingSince = undefined;
    try {
      const hashes = await readElectionHashes(this.#o.reader, e.electionId, this.#o.prefix);
      const snapshot = snapshotOf(e.electionId, hashes, this.#o.nowMs());
      const key = contentKey(snapshot);
      const changed = key !== e.current?.key;
      if (initial || changed || force) {
        e.current = { snapshot, text: serializeSnapshot(snapshot, key), key };
        if (!initial && this.#elections.get(e.electionId) === e) {
          this.#o.metrics.snapshotsPublished.inc();
          this.#o.onSnapshot(e.electionId, e.current, since);
        }
      }
    } catch (error) {
      this.#o.metrics.redisReadFailures.inc();
      this.#o.logger.warn({ err: error instanceof Error ? error.message : String(error), electionId: e.electionId }, 'reading an election from redis failed; retrying');
      e.dirty = true;
      e.force ||= force;
      e.pendingSince ??= since;
      if (initial) throw error;
    } finally {
      e.reading = false;
      if (e.dirty && this.#elections.get(e.electionId) === e) this.#schedule(e);
    }
  }
}
