import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/**
 * `StreamsBuilder.table`: each record of the topic is the latest value of its key. It is stored (a
 * null value, Kafka's tombstone, deletes the key) and forwarded as the table's update; records
 * with a null key are skipped, as in Kafka Streams.
 */
class KTableSourceProcessor<K extends string, V> implements Processor<K, V | null, K, V | null> {
  private context!: ProcessorContext<K, V | null>;
  private store!: KeyValueStore<V>;
  constructor(private readonly storeName: string) {}
  init(context: ProcessorContext<K, V | null>): void {
    this.context = context;
    this.store = context.getStateStore<V>(this.storeName);
  }
  async process(record: StreamRecord<K, V | null>): Promise<void> {
    if (record.key === null || record.key === undefined) return;
    if (record.value === null || record.value === undefined) await this.store.delete(record.key);
    else await this.store.put(record.key, record.value);
    return this.context.forward({ ...record, value: record.value ?? null });
  }
}

export function ktableSourceProcessor<K extends string, V>(storeName: string): ProcessorSupplier<K, V | null, K, V | null> {
  return () => new KTableSourceProcessor<K, V>(storeName);
}
