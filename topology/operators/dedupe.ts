import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

export interface DedupeRoute<K, V, S> {
  readonly store: string;
  readonly key: (key: K, value: V) => string;
  readonly storeValue: (key: K, value: V) => S;
  readonly acceptedChild: string;
  readonly duplicatesChild: string;
}

/** The first record per identity is accepted and remembered; every later one is a duplicate. */
class DedupeProcessor<K, V, S> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  private store!: KeyValueStore<S>;
  constructor(private readonly route: DedupeRoute<K, V, S>) {}
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
    this.store = context.getStateStore<S>(this.route.store);
  }
  async process(record: StreamRecord<K, V>): Promise<void> {
    const identity = this.route.key(record.key, record.value);
    if ((await this.store.get(identity)) !== undefined) {
      return this.context.forward(record, this.route.duplicatesChild);
    }
    await this.store.put(identity, this.route.storeValue(record.key, record.value));
    return this.context.forward(record, this.route.acceptedChild);
  }
}

export function dedupeProcessor<K, V, S>(route: DedupeRoute<K, V, S>): ProcessorSupplier<K, V, K, V> {
  return () => new DedupeProcessor(route);
}
