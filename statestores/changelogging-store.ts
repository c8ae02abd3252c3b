import type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';

/** One changelog record: the new value of a key, or null when it was deleted (a tombstone). */
export interface ChangelogRecord<V> {
  readonly key: string;
  readonly value: V | null;
}

/** Where the change-logging layer reports each change; the runtime turns them into Kafka records. */
export interface ChangelogSink<V> {
  record(key: string, value: V | null): void;
}

/**
 * DESIGN section 3: `<applicationId>-<store>-changelog`, so the voting app ("votestream") gets
 * `votestream-voters-changelog` for its store "voters". The topic prefix, if any, is the caller's.
 */
export function changelogTopicName(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`;
}

/**
 * The change-logging layer: every successful put/delete is also reported to the sink, after the
 * layer below accepted it (so a rejected write, e.g. an invalid key, leaves no record). Reads pass
 * through untouched.
 */
export class ChangeLoggingKeyValueStore<V> implements KeyValueStore<V> {
  readonly name: string;

  constructor(
    private readonly inner: KeyValueStore<V>,
    private readonly sink: ChangelogSink<V>,
  ) {
    this.name = inner.name;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  get(key: string): Promise<V | undefined> {
    return this.inner.get(key);
  }

  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    return this.inner.getMany(keys);
  }

  async put(key: string, value: V): Promise<void> {
    await this.inner.put(key, value);
    this.sink.record(key, value);
  }

  async putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    await this.inner.putAll(entries);
    for (const { key, value } of entries) this.sink.record(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.sink.record(key, null);
  }

  range(options?: RangeOptions): AsyncIterable<KeyValue<V>> {
    return this.inner.range(options);
  }

  approximateCount(): Promise<number> {
    return this.inner.approximateCount();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
