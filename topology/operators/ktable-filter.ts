import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/**
 * KTable `filter` and `filterNot` (Kafka Streams' KTableFilter without old values): an update that
 * does not pass becomes a tombstone for its key, so a key that stops passing is deleted downstream;
 * tombstones pass as tombstones and never reach the predicate.
 */
class KTableFilterProcessor<K, V> implements Processor<K, V | null, K, V | null> {
  private context!: ProcessorContext<K, V | null>;
  constructor(
    private readonly predicate: (key: K, value: V) => boolean,
    private readonly keep: boolean,
  ) {}
  init(context: ProcessorContext<K, V | null>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V | null>): void | Promise<void> {
    const value = record.value === null || this.predicate(record.key, record.value) !== this.keep ? null : record.value;
    return this.context.forward({ ...record, value });
  }
}

export function ktableFilterProcessor<K, V>(predicate: (key: K, value: V) => boolean, keep: boolean): ProcessorSupplier<K, V | null, K, V | null> {
  return () => new KTableFilterProcessor(predicate, keep);
}
