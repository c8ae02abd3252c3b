import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';
import type { ValueAndTimestamp } from '../serdes/timestamped-serde.js';

/** `previous` is undefined for the first record of a key. count, reduce and aggregate are folds. */
export type Fold<K, V, VA> = (key: K, value: V, previous: VA | undefined) => VA;

/**
 * Folds each record into the stored value of its key and forwards the new value (the KTable's
 * update), as Kafka Streams' KStreamAggregate and KStreamReduce: a record with a null (or
 * undefined) key or value is skipped and counted as dropped; the store keeps each aggregate with
 * its timestamp, and an update carries max(record timestamp, previous aggregate timestamp).
 */
class AggregateProcessor<K extends string, V, VA> implements Processor<K, V, K, VA> {
  private context!: ProcessorContext<K, VA>;
  private store!: KeyValueStore<ValueAndTimestamp<VA>>;
  constructor(
    private readonly storeName: string,
    private readonly fold: Fold<K, V, VA>,
  ) {}
  init(context: ProcessorContext<K, VA>): void {
    this.context = context;
    this.store = context.getStateStore<ValueAndTimestamp<VA>>(this.storeName);
  }
  async process(record: StreamRecord<K, V>): Promise<void> {
    if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) {
      return this.context.recordDropped('null key or value');
    }
    const previous = await this.store.get(record.key);
    const next = this.fold(record.key, record.value, previous?.value);
    const timestamp = previous === undefined ? record.timestamp : Math.max(record.timestamp, previous.timestamp);
    // A fold that returns null deletes the key, as a null aggregate does in Kafka Streams.
    if (next === null || next === undefined) await this.store.delete(record.key);
    else await this.store.put(record.key, { value: next, timestamp });
    return this.context.forward({ key: record.key, value: next, timestamp, headers: record.headers });
  }
}

export function aggregateProcessor<K extends string, V, VA>(storeName: string, fold: Fold<K, V, VA>): ProcessorSupplier<K, V, K, VA> {
  return () => new AggregateProcessor(storeName, fold);
}
