import type { Registry } from 'prom-client';
import { VotestreamError } from './votestream-error.js';
import type { KeyValue, KeyValueStore } from './key-value-store.js';
import { assertNoRegression, toOffset, type CommittableKeyValueStore } from './committable-store.js';
import { ChangeLoggingKeyValueStore, type ChangelogRecord } from './changelogging-store.js';
import { ChangelogCollector } from './changelog-collector.js';
import { StoreCommitProtocolError, StoreWriteError } from './errors.js';
import { InMemoryKeyValueStore } from './in-memory-store.js';
import { LevelDbKeyValueStore, type LevelDbStoreOptions } from './leveldb-store.js';
import { MeteredKeyValueStore } from './metered-store.js';
import type { ValueCodec } from './value-codec.js';
import { WriteBufferStore } from './write-buffer.js';

/** A record read back from the changelog topic during restoration; null value = deleted. */
export interface RestoreRecord<V> {
  readonly key: string;
  readonly value: V | null;
  readonly offset: bigint | number;
}

export interface TaskStoreOptions<V> {
  readonly name: string;
  /** The LevelDB directory of this task's store, or 'memory' for an in-memory store. */
  readonly location: string;
  /** Record changes for the changelog topic (default true). Without it pendingChangelog() is empty. */
  readonly changelog?: boolean;
  /** Meter the store into this registry (no metering layer without one). */
  readonly registry?: Registry;
  /** The `task` label of the metrics, e.g. "dedup-3". */
  readonly taskId?: string;
  /** LevelDB only: how values become bytes (default JSON). */
  readonly codec?: ValueCodec<V>;
  /** LevelDB only: cache and buffer sizes, see LevelDbStoreOptions. */
  readonly leveldb?: LevelDbStoreOptions;
}

/**
 * One task's store and the hooks of the commit protocol (DESIGN section 4). The runtime, per
 * commit and with no processing of this task in between:
 *
 *   const records = task.pendingChangelog();   // send them in the open transaction
 *   ... send outputs and offsets, commit the Kafka transaction ...
 *   await task.commit(nextChangelogOffset);    // only after the transaction committed
 *
 * and on abort, fencing or revocation `task.abort()`. Before processing, a new owner restores:
 * read the changelog from `restoredOffset() ?? 0n` and feed `restoreBatch()`.
 *
 * Offsets are positions in the changelog partition, the *next* offset to read (Kafka's convention
 * for committed offsets): commit() takes one past the last changelog record this state includes.
 * Replaying changelog records the store already holds is harmless (each sets a key to its value
 * in order), so an offset that lags is only extra work; one that runs ahead would skip records.
 */
export interface TaskStore<V> {
  readonly name: string;
  /** The store processors use: metered -> change-logging -> write buffer -> committed store. */
  readonly store: KeyValueStore<V>;
  /** Keys with a buffered (uncommitted) write: a trigger for "commit every N writes". */
  readonly pendingWrites: number;
  open(): Promise<void>;
  /**
   * The changelog records of the writes since the last commit or abort, one per key (the last
   * write). Does not clear them; commit() and abort() do. Writes made after this call and before
   * commit() make commit() fail, since they would reach LevelDB without reaching the changelog.
   */
  pendingChangelog(): ChangelogRecord<V>[];
  /**
   * Writes the buffered writes and the changelog offset they reach in one atomic batch, then
   * clears the buffer and the pending changelog. The offset may be omitted only when no
   * changelog record was pending; then the stored offset stays. If the batch cannot be written
   * (StoreWriteError) the writes go back into the buffer (the changelog already has them), so
   * reads still see them and the next commit persists them; the runtime may instead close the
   * task, since the changelog can restore them.
   */
  commit(changelogOffset?: bigint | number): Promise<void>;
  /** Drops the buffered writes and the pending changelog. */
  abort(): void;
  /** The stored changelog position, undefined for a fresh store: where restoration starts. */
  restoredOffset(): bigint | undefined;
  /**
   * Applies changelog records straight to the committed store, in one batch with the position
   * they reach: `nextOffset` if given (e.g. the consumer position, past transaction markers),
   * else the last record's offset + 1. Records below the stored position are skipped, so a batch
   * read twice is harmless. Refused while writes are buffered: restoration precedes processing.
   */
  restoreBatch(records: readonly RestoreRecord<V>[], nextOffset?: bigint | number): Promise<void>;
  /** Closes all layers; buffered writes are dropped, as in a crash. */
  close(): Promise<void>;
  /** Closes and deletes the committed state (LevelDB directory; in-memory: the entries). */
  destroy(): Promise<void>;
}

export function createTaskStore<V>(options: TaskStoreOptions<V>): TaskStore<V> {
  const { name } = options;
  // Both committed stores can also destroy themselves (directory / entries).
  const committed: CommittableKeyValueStore<V> & { destroy(): Promise<void> } =
    options.location === 'memory'
      ? new InMemoryKeyValueStore<V>(name)
      : new LevelDbKeyValueStore<V>(name, options.location, options.codec, options.leveldb);
  const buffer = new WriteBufferStore<V>(committed);
  const collector = options.changelog === false ? undefined : new ChangelogCollector<V>();
  const logged: KeyValueStore<V> = collector === undefined ? buffer : new ChangeLoggingKeyValueStore<V>(buffer, collector);
  const store: KeyValueStore<V> =
    options.registry === undefined ? logged : new MeteredKeyValueStore<V>(logged, options.registry, { task: options.taskId });
  // collector.writeCount when the runtime last looked at (or settled) the pending changelog.
  let sealedWrites = 0;

  const settle = (): void => {
    collector?.clear();
    sealedWrites = collector?.writeCount ?? 0;
  };

  return {
    name,
    store,
    get pendingWrites() {
      return buffer.size;
    },

    open: () => store.open(),

    pendingChangelog() {
      if (collector === undefined) return [];
      sealedWrites = collector.writeCount;
      return collector.records();
    },

    async commit(changelogOffset) {
      if (collector !== undefined) {
        if (collector.writeCount !== sealedWrites) {
          throw new StoreCommitProtocolError(name, 'written to after pendingChangelog(): those writes are not in the changelog');
        }
        if (collector.size > 0 && changelogOffset === undefined) {
          throw new StoreCommitProtocolError(name, 'commit() needs the changelog offset the pending changelog records reach');
        }
      }
      const offset = changelogOffset === undefined ? undefined : toOffset(name, changelogOffset);
      // Checked before anything is drained, so that a protocol error leaves the state as it was.
      if (offset !== undefined) assertNoRegression(name, committed.readCommittedOffset(), offset);
      // drain() and settle() run in one synchronous step: writes made while the batch is being
      // written go to the fresh buffer and count towards the next commit.
      const pending = buffer.drain();
      settle();
      if (pending.puts.length === 0 && pending.deletes.length === 0 && offset === undefined) return;
      try {
        await committed.writeBatch(pending.puts, pending.deletes, offset === undefined ? undefined : { changelogOffset: offset });
      } catch (err) {
        buffer.requeue(pending);
        if (err instanceof VotestreamError) throw err;
        throw new StoreWriteError(name, 'the committed batch could not be written', { cause: err });
      }
    },

    abort() {
      buffer.discard();
      settle();
    },

    restoredOffset: () => committed.readCommittedOffset(),

    async restoreBatch(records, nextOffset) {
      if (buffer.size > 0) {
        throw new StoreCommitProtocolError(name, `restoreBatch() with ${buffer.size} buffered writes; restore before processing`);
      }
      const from = committed.readCommittedOffset() ?? 0n;
      // One operation per key, the last record wins: records arrive in offset order.
      const ops = new Map<string, V | null>();
      let last: bigint | undefined;
      for (const record of records) {
        const offset = toOffset(name, record.offset);
        if (last !== undefined && offset <= last) {
          throw new StoreCommitProtocolError(name, `restore records out of offset order: ${last} then ${offset}`);
        }
        last = offset;
        if (offset < from) continue;
        ops.delete(record.key);
        ops.set(record.key, record.value);
      }
      const reached = nextOffset !== undefined ? toOffset(name, nextOffset) : last === undefined ? undefined : last + 1n;
      if (reached === undefined) return;
      if (last !== undefined && reached <= last) {
        throw new StoreCommitProtocolError(name, `restore position ${reached} is not past the last record ${last}`);
      }
      if (reached <= from && ops.size === 0) return;
      const puts: KeyValue<V>[] = [];
      const deletes: string[] = [];
      for (const [key, value] of ops) {
        if (value === null) deletes.push(key);
        else puts.push({ key, value });
      }
      await committed.writeBatch(puts, deletes, { changelogOffset: reached });
    },

    async close() {
      settle();
      await store.close();
    },

    async destroy() {
      settle();
      await store.close();
      await committed.destroy();
    },
  };
}
