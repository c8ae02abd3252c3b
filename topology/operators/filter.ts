import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/** `filter` keeps records matching the predicate, `filterNot` the others: one processor, one flag. */
class FilterProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  constructor(
    private readonly predicate: (key: K, value: V) => boolean,
    private readonly keep: boolean,
  ) {}
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    if (this.predicate(record.key, record.value) === this.keep) return this.context.forward(record);
  }
}

export function filterProcessor<K, V>(predicate: (key: K, value: V) => boolean, keep: boolean): ProcessorSupplier<K, V, K, V> {
  return () => new FilterProcessor(predicate, keep);
}
