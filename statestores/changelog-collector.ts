import type { ChangelogRecord, ChangelogSink } from './changelogging-store.js';

/**
 * A ChangelogSink that holds the records of one commit until the runtime sends them in the open
 * transaction. Deduplicated per key, last write wins: the changelog topic is compacted and a
 * restore keeps only the last value per key anyway, so the earlier writes of a key within one
 * commit are dead weight on the wire. Records come out in the order of each key's last write.
 */
export class ChangelogCollector<V> implements ChangelogSink<V> {
  private pending = new Map<string, V | null>();
  private writes = 0;

  record(key: string, value: V | null): void {
    // delete + set moves the key to the end: the order of last writes.
    this.pending.delete(key);
    this.pending.set(key, value);
    this.writes++;
  }

  /** Distinct keys pending. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * How many records were reported since this collector was made, including duplicates; a
   * counter that only grows, so a caller can tell whether anything was written since it looked.
   */
  get writeCount(): number {
    return this.writes;
  }

  records(): ChangelogRecord<V>[] {
    return [...this.pending].map(([key, value]) => ({ key, value }));
  }

  clear(): void {
    this.pending = new Map();
  }
}
