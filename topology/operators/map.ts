import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** One record in, one record out: `map`, `mapValues`, `selectKey` and `toStream` differ only in the function. */
class MapProcessor<K, V, KR, VR> implements Processor<K, V, KR, VR> {
  private context!: ProcessorContext<KR, VR>;
  constructor(private readonly transform: (record: StreamRecord<K, V>) => StreamRecord<KR, VR>) {}
  init(context: ProcessorContext<KR, VR>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    return this.context.forward(this.transform(record));
  }
}

export function mapProcessor<K, V, KR, VR>(
  transform: (record: StreamRecord<K, V>) => StreamRecord<KR, VR>,
): ProcessorSupplier<K, V, KR, VR> {
  return () => new MapProcessor(transform);
}
