import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** Forwards unchanged: the named children of `split` and `dedupe`, and `merge`. */
class PassThroughProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    return this.context.forward(record);
  }
}

export function passThroughProcessor<K, V>(): ProcessorSupplier<K, V, K, V> {
  return () => new PassThroughProcessor<K, V>();
}
