import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/**
 * The filter before an aggregation's repartition topic (Kafka Streams' `<topic>-filter` node): a
 * record whose key is null (or undefined) cannot be aggregated, so it is dropped here, logged and
 * counted, instead of reaching the repartition topic. Kafka Streams passes it through and drops it
 * at the aggregation after the topic; the outputs and the dropped-records count are the same.
 */
class NullKeyFilterProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>;
  init(context: ProcessorContext<K, V>): void {
    this.context = context;
  }
  process(record: StreamRecord<K, V>): void | Promise<void> {
    if (record.key === null || record.key === undefined) return this.context.recordDropped('null key');
    return this.context.forward(record);
  }
}

export function nullKeyFilterProcessor<K, V>(): ProcessorSupplier<K, V, K, V> {
  return () => new NullKeyFilterProcessor<K, V>();
}
