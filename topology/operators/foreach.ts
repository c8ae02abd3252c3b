import type { Processor, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** `foreach` (and `print`): a terminal node that hands every record to an action and forwards nothing. */
class ForeachProcessor<K, V> implements Processor<K, V> {
  constructor(private readonly action: (key: K, value: V) => void) {}
  process(record: StreamRecord<K, V>): void {
    this.action(record.key, record.value);
  }
}

export function foreachProcessor<K, V>(action: (key: K, value: V) => void): ProcessorSupplier<K, V> {
  return () => new ForeachProcessor(action);
}
