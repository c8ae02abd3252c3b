import { mkdir, rm } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import type { KeyValue, RangeOptions } from './key-value-store.js';
import {
  assertNoRegression,
  normalizeBatch,
  toOffset,
  type CommitMeta,
  type CommittableKeyValueStore,
} from './committable-store.js';
import { StoreArgumentError, StoreCorruptionError, StoreNotOpenError, StoreOpenError } from './errors.js';
import { assertValidKey, normalizeLimit } from './key-order.js';
import { jsonCodec, type ValueCodec } from './value-codec.js';

/**
 * LevelDB tuning. The defaults are sized for the target "a worker holding 5,000,000 voters across
 * its stores stays under 512 MB RSS", where a worker may host up to 12 tasks, i.e. 12 stores:
 *
 * - cacheSize 8 MiB (LevelDB's default): the dedup workload reads keys at random over the whole
 *   key space, so a block cache only a fraction of the ~300 MB of data barely changes the hit
 *   rate; misses for new voters are answered by the bloom filter classic-level always installs
 *   (10 bits/key: ~6 MB for 5M keys, held with the open tables).
 * - writeBufferSize 4 MiB (default): LevelDB holds up to two memtables, so 8 MiB.
 * - maxOpenFiles 256 (default 1000): each open table keeps its index and filter blocks in memory;
 *   with 2 MiB table files 256 covers ~500 MB of data per store, more than a 5M-voter store.
 *
 * Per store: at most 8 + 8 + (index/filter of open tables, ~10 MB at 5M keys) ≈ 26 MiB; 12 stores
 * ≈ 310 MiB worst case, the usual split (5M voters over 12 partitions) far less, leaving room for
 * Node itself (~80 MB) and the write buffers. One caveat that no option here controls: LevelDB
 * mmaps table files on 64-bit systems, and mmapped pages it touched count in RSS as file-backed
 * memory. The kernel reclaims them under pressure (they do not cause OOM kills), but `ps` shows them.
 */
export interface LevelDbStoreOptions {
  readonly cacheSize?: number;
  readonly writeBufferSize?: number;
  readonly maxOpenFiles?: number;
  /**
   * fsync every batch. Off by default, and safe off: the changelog offset is written in the same
   * batch as the data, so a machine crash that loses the tail of LevelDB's log loses the offset
   * with it, and the next open catches up from the changelog starting at the older offset.
   */
  readonly sync?: boolean;
}

export const DEFAULT_LEVELDB_OPTIONS = {
  cacheSize: 8 * 1024 * 1024,
  writeBufferSize: 4 * 1024 * 1024,
  maxOpenFiles: 256,
  sync: false,
} as const satisfies Required<LevelDbStoreOptions>;

// Key layout. Every user key is stored as DATA + key, metadata as META + name, so range() and the
// entry count (bounded to [DATA, DATA_END)) can never see metadata, whatever the user keys are.
// One byte instead of a sublevel's "!name!" keeps keys short and skips a transcoding layer.
const DATA = 'd';
const DATA_END = 'e';
const META = 'm';
const META_COUNT = `${META}count`;
const META_OFFSET = `${META}changelog-offset`;
const META_CODEC = `${META}codec`;

type Db = ClassicLevel<string, Buffer>;

/**
 * A key-value store in LevelDB (classic-level). The exact entry count is kept under a meta key and
 * updated in the same atomic batch as every write (a hasMany() before the batch tells inserts from
 * overwrites; in the dedup workload those keys were just read, so the blocks are cached). Writes
 * are serialised inside the store so that two concurrent batches cannot compute their count delta
 * from the same state.
 */
export class LevelDbKeyValueStore<V> implements CommittableKeyValueStore<V> {
  readonly name: string;
  readonly location: string;
  private readonly codec: ValueCodec<V>;
  private readonly options: Required<LevelDbStoreOptions>;
  private db: Db | undefined;
  private opening: Promise<void> | undefined;
  private count = 0;
  private committedOffset: bigint | undefined;
  private writeQueue: Promise<unknown> = Promise.resolve();

  constructor(name: string, location: string, codec: ValueCodec<V> = jsonCodec<V>(), options: LevelDbStoreOptions = {}) {
    this.name = name;
    this.location = location;
    this.codec = codec;
    this.options = { ...DEFAULT_LEVELDB_OPTIONS, ...options };
  }

  open(): Promise<void> {
    this.opening ??= this.doOpen().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const db: Db = new ClassicLevel<string, Buffer>(this.location, {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
      createIfMissing: true,
      cacheSize: this.options.cacheSize,
      writeBufferSize: this.options.writeBufferSize,
      maxOpenFiles: this.options.maxOpenFiles,
    });
    try {
      // LevelDB creates only the last directory level itself.
      await mkdir(this.location, { recursive: true });
      await db.open();
    } catch (err) {
      throw new StoreOpenError(this.name, this.location, { cause: err });
    }
    try {
      const [count, offset, codec] = await db.getMany([META_COUNT, META_OFFSET, META_CODEC]);
      if (codec !== undefined && codec.toString('utf8') !== this.codec.name) {
        throw new StoreCorruptionError(
          this.name,
          `written with codec "${codec.toString('utf8')}", opened with "${this.codec.name}"`,
        );
      }
      this.committedOffset = offset === undefined ? undefined : BigInt(offset.toString('utf8'));
      if (count !== undefined) {
        this.count = Number(count.toString('utf8'));
      } else {
        // A fresh store (or one written by something else): count once, then keep it exact.
        this.count = await countKeys(db);
        await db.batch([
          { type: 'put', key: META_COUNT, value: Buffer.from(String(this.count)) },
          { type: 'put', key: META_CODEC, value: Buffer.from(this.codec.name) },
        ]);
      }
    } catch (err) {
      await db.close();
      throw err;
    }
    this.db = db;
  }

  async get(key: string): Promise<V | undefined> {
    const db = this.openDb('get');
    assertValidKey(this.name, key);
    // Synchronous on purpose: a task awaits each record before the next, so an async get buys no
    // parallelism and costs a libuv thread-pool round trip per record. Point reads are answered
    // from the block cache, the bloom filter (misses) or the page cache. Measured: 1.68x the
    // dedup throughput of the async get (benchmarks/RESULTS.md).
    const bytes = db.getSync(DATA + key);
    return bytes === undefined ? undefined : this.decode(key, bytes);
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const db = this.openDb('getMany');
    const dataKeys = keys.map((key) => {
      assertValidKey(this.name, key);
      return DATA + key;
    });
    const values = await db.getMany(dataKeys);
    return values.map((bytes, i) => (bytes === undefined ? undefined : this.decode(keys[i], bytes)));
  }

  async put(key: string, value: V): Promise<void> {
    return this.writeBatch([{ key, value }], []);
  }

  async putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    return this.writeBatch(entries, []);
  }

  async delete(key: string): Promise<void> {
    return this.writeBatch([], [key]);
  }

  // async: every failure, validation included, arrives as a rejection, never as a synchronous throw.
  async writeBatch(puts: readonly KeyValue<V>[], deletes: readonly string[], meta?: CommitMeta): Promise<void> {
    const db = this.openDb('writeBatch');
    // Validate and encode before queueing: a bad batch fails alone and writes nothing.
    const ops = normalizeBatch(this.name, puts, deletes);
    const encoded = new Map<string, Buffer | null>();
    for (const [key, value] of ops) encoded.set(key, value === null ? null : this.encode(key, value));
    const offset = meta === undefined ? undefined : toOffset(this.name, meta.changelogOffset);
    return this.serialised(async () => {
      if (offset !== undefined) assertNoRegression(this.name, this.committedOffset, offset);
      const keys = [...encoded.keys()].map((key) => DATA + key);
      const exists = keys.length === 0 ? [] : await db.hasMany(keys);
      let delta = 0;
      const batch = db.batch();
      let i = 0;
      for (const value of encoded.values()) {
        const dataKey = keys[i];
        if (value === null) {
          if (exists[i]) delta--;
          batch.del(dataKey);
        } else {
          if (!exists[i]) delta++;
          batch.put(dataKey, value);
        }
        i++;
      }
      if (delta !== 0) batch.put(META_COUNT, Buffer.from(String(this.count + delta)));
      if (offset !== undefined) batch.put(META_OFFSET, Buffer.from(offset.toString()));
      await batch.write({ sync: this.options.sync });
      this.count += delta;
      if (offset !== undefined) this.committedOffset = offset;
    });
  }

  readCommittedOffset(): bigint | undefined {
    this.openDb('readCommittedOffset');
    return this.committedOffset;
  }

  range(options: RangeOptions = {}): AsyncIterable<KeyValue<V>> {
    const db = this.openDb('range');
    const limit = normalizeLimit(this.name, options.limit);
    const gte = DATA + (options.gte ?? '');
    const lt = options.lt === undefined ? DATA_END : DATA + options.lt;
    const decode = (key: string, bytes: Buffer): V => this.decode(key, bytes);
    return {
      async *[Symbol.asyncIterator]() {
        if (limit === 0) return;
        // The iterator reads from an implicit snapshot and is closed by for-await on any exit.
        const iterator = db.iterator({ gte, lt, limit: limit === Infinity ? -1 : limit });
        for await (const [dataKey, bytes] of iterator) {
          const key = dataKey.slice(DATA.length);
          yield { key, value: decode(key, bytes) };
        }
      },
    };
  }

  /** Exact: kept in the store itself, see the class comment. */
  async approximateCount(): Promise<number> {
    this.openDb('approximateCount');
    return this.count;
  }

  async close(): Promise<void> {
    if (this.opening !== undefined) await this.opening.catch(() => undefined);
    const db = this.db;
    if (db === undefined) return;
    // Let queued batches land: close() during a commit must not tear the batch.
    await this.writeQueue;
    this.db = undefined;
    this.opening = undefined;
    await db.close();
  }

  /** Closes the store and deletes its directory (e.g. for a store that is to be rebuilt). */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.location, { recursive: true, force: true });
  }

  private serialised(task: () => Promise<void>): Promise<void> {
    const run = this.writeQueue.then(task);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private openDb(operation: string): Db {
    if (this.db === undefined) throw new StoreNotOpenError(this.name, operation);
    return this.db;
  }

  private encode(key: string, value: V): Buffer {
    try {
      const bytes = this.codec.encode(value);
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      throw new StoreArgumentError(this.name, `value for key ${JSON.stringify(key)} cannot be encoded with codec "${this.codec.name}": ${String(err)}`);
    }
  }

  private decode(key: string, bytes: Buffer): V {
    try {
      return this.codec.decode(bytes);
    } catch (err) {
      throw new StoreCorruptionError(this.name, `value for key ${JSON.stringify(key)} cannot be decoded with codec "${this.codec.name}"`, {
        cause: err,
      });
    }
  }
}

async function countKeys(db: Db): Promise<number> {
  let n = 0;
  const keys = db.keys({ gte: DATA, lt: DATA_END });
  for (;;) {
    const chunk = await keys.nextv(10_000);
    if (chunk.length === 0) break;
    n += chunk.length;
  }
  await keys.close();
  return n;
}
