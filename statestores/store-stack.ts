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
 * One task's store and the hooks of the commit protocol (DESIGN section 4). The runtime, per commit:
 *
 *   const records = task.seal();               // send them in the transaction
 *   ... processing goes on: new writes belong to the next commit, reads still see the sealed ones ...
 *   ... send outputs and offsets, commit the Kafka transaction ...
 *   await task.commit(nextChangelogOffset);    // only after the transaction committed
 *
 * and on abort, fencing or revocation `task.abort()`, which drops the sealed batch too. One sealed
 * batch at a time. Before processing, a new owner restores: read the changelog from
 * `restoredOffset() ?? 0n` and feed `restoreBatch()`.
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
  /** Keys with a buffered write not sealed yet: a trigger for "commit every N writes". */
  readonly pendingWrites: number;
  open(): Promise<void>;
  /**
   * Seals the writes since the last seal or abort for a commit and returns their changelog
   * records, one per key (the last write). Writes made afterwards belong to the next commit.
   * Refused (StoreCommitProtocolError) while an earlier sealed batch is not committed.
   */
  seal(): ChangelogRecord<V>[];
  /**
   * Writes the sealed writes and the changelog offset they reach in one atomic batch, then
   * releases them. The offset may be omitted only when the sealed batch had no changelog record;
   * then the stored offset stays. Without a sealed batch only the offset is written, if given.
   * If the batch cannot be written (StoreWriteError) the writes go back into the open buffer (the
   * changelog already has them), so reads still see them and the next commit persists them; the
   * runtime may instead close the task, since the changelog can restore them.
   */
  commit(changelogOffset?: bigint | number): Promise<void>;
  /** Drops the sealed and the open writes and their changelog records. */
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
  // Changelog records in the sealed batch: commit() then needs the offset they reach.
  let sealedChangelog = 0;

  return {
    name,
    store,
    get pendingWrites() {
      return buffer.size;
    },

    open: () => store.open(),

    seal() {
      const records = collector?.records() ?? [];
      buffer.seal();
      collector?.clear();
      sealedChangelog = records.length;
      return records;
    },

    async commit(changelogOffset) {
      if (sealedChangelog > 0 && changelogOffset === undefined) {
        throw new StoreCommitProtocolError(name, 'commit() needs the changelog offset the sealed changelog records reach');
      }
      const offset = changelogOffset === undefined ? undefined : toOffset(name, changelogOffset);
      // Checked before anything is written, so that a protocol error leaves the state as it was.
      if (offset !== undefined) assertNoRegression(name, committed.readCommittedOffset(), offset);
      const sealed = buffer.sealedWrites();
      if (sealed === undefined && offset === undefined) return;
      try {
        await committed.writeBatch(sealed?.puts ?? [], sealed?.deletes ?? [], offset === undefined ? undefined : { changelogOffset: offset });
      } catch (err) {
        buffer.requeueSealed();
        sealedChangelog = 0;
        if (err instanceof VotestreamError) throw err;
        throw new StoreWriteError(name, 'the committed batch could not be written', { cause: err });
      }
      buffer.releaseSealed();
      sealedChangelog = 0;
    },

    abort() {
      buffer.discard();
      collector?.clear();
      sealedChangelog = 0;
    },

    restoredOffset: () => committed.readCommittedOffset(),

    async restoreBatch(records, nextOffset) {
      if (buffer.size > 0 || buffer.hasSealed) {
        throw new StoreCommitProtocolError(name, `restoreBatch() with ${buffer.size} buffered writes${buffer.hasSealed ? ' and a sealed batch' : ''}; restore before processing`);
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
      collector?.clear();
      await store.close();
    },

    async destroy() {
      collector?.clear();
      await store.close();
      await committed.destroy();
    },
  };
}
