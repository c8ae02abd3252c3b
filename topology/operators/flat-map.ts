import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** One record in, any number out, in iteration order (`flatMap`, `flatMapValues`). */
class FlatMapProcessor<K, V, KR, VR> implements Processor<K, V, KR, VR> {
  private context!: ProcessorContext<KR, VR>;
  constructor(private readonly transform: (record: StreamRecord<K, V>) => Iterable<StreamRecord<KR, VR>>) {}
  init(context: ProcessorContext<KR, VR>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void {
    // Not awaited: the node keeps its forwards in order and waits for them.
    for (const out of this.transform(record)) void this.context.forward(out);
  }
}

export function flatMapProcessor<K, V, KR, VR>(
  transform: (record: StreamRecord<K, V>) => Iterable<StreamRecord<KR, VR>>,
): ProcessorSupplier<K, V, KR, VR> {
  return () => new FlatMapProcessor(transform);
}
