import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** KTable `mapValues` (Kafka Streams' KTableMapValues): tombstones stay tombstones, the mapper never sees null. */
class KTableMapValuesProcessor<K, V, VR> implements Processor<K, V | null, K, VR | null> {
  private context!: ProcessorContext<K, VR | null>;
  constructor(private readonly mapper: (value: V, key: K) => VR) {}
  init(context: ProcessorContext<K, VR | null>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V | null>): void | Promise<void> {
    const value = record.value === null ? null : this.mapper(record.value, record.key);
    return this.context.forward({ ...record, value });
  }
}

export function ktableMapValuesProcessor<K, V, VR>(mapper: (value: V, key: K) => VR): ProcessorSupplier<K, V | null, K, VR | null> {
  return () => new KTableMapValuesProcessor(mapper);
}
