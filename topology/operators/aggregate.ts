import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** `previous` is undefined for the first record of a key. count, reduce and aggregate are folds. */
export type Fold<K, V, VA> = (key: K, value: V, previous: VA | undefined) => VA;

/** Folds each record into the stored value of its key and forwards the new value (the KTable's update). */
class AggregateProcessor<K extends string, V, VA> implements Processor<K, V, K, VA> {
  private context!: ProcessorContext<K, VA>;
  private store!: KeyValueStore<VA>;
  constructor(
    private readonly storeName: string,
    private readonly fold: Fold<K, V, VA>,
  ) {}
  init(context: ProcessorContext<K, VA>): void {
    this.context = context;
    this.store = context.getStateStore<VA>(this.storeName);
  }
  async process(record: StreamRecord<K, V>): Promise<void> {
    const next = this.fold(record.key, record.value, await this.store.get(record.key));
    await this.store.put(record.key, next);
    return this.context.forward({ key: record.key, value: next, timestamp: record.timestamp, headers: record.headers });
  }
}

export function aggregateProcessor<K extends string, V, VA>(storeName: string, fold: Fold<K, V, VA>): ProcessorSupplier<K, V, K, VA> {
  return () => new AggregateProcessor(storeName, fold);
}
