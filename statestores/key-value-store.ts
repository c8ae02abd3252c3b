/**
 * The one interface every store layer implements (in-memory, LevelDB, change-logging, write buffer,
 * metered). Layers wrap one another; each does one thing. Keys are strings, values are the store's
 * value type; serialisation happens in the layer that touches bytes.
 */
export interface KeyValue<V> {
  readonly key: string;
  readonly value: V;
}

export interface RangeOptions {
  /** Inclusive lower bound. */
  readonly gte?: string;
  /** Exclusive upper bound. */
  readonly lt?: string;
  readonly limit?: number;
}

export interface KeyValueStore<V> {
  readonly name: string;
  /** Opens the store; idempotent. Stores are usable only after open() resolved. */
  open(): Promise<void>;
  get(key: string): Promise<V | undefined>;
  /** Values in the order of `keys`; undefined where absent. */
  getMany(keys: readonly string[]): Promise<(V | undefined)[]>;
  put(key: string, value: V): Promise<void>;
  putAll(entries: readonly KeyValue<V>[]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Entries in key order within the bounds. */
  range(options?: RangeOptions): AsyncIterable<KeyValue<V>>;
  /** A cheap estimate; exact for in-memory stores. */
  approximateCount(): Promise<number>;
  close(): Promise<void>;
}
