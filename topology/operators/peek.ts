import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

class PeekProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  constructor(private readonly action: (key: K, value: V) => void) {}
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    this.action(record.key, record.value);
    return this.context.forward(record);
  }
}

export function peekProcessor<K, V>(action: (key: K, value: V) => void): ProcessorSupplier<K, V, K, V> {
  return () => new PeekProcessor(action);
}
