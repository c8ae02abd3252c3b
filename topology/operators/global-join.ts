import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

export interface GlobalJoinSpec<K, V, GV, VR> {
  readonly store: string;
  readonly keySelector: (key: K, value: V) => string;
  readonly joiner: (value: V, tableValue: GV | undefined, key: K) => VR;
  /** Inner joins drop records with no table entry; left joins pass undefined to the joiner. */
  readonly inner: boolean;
}

/**
 * Stream-to-GlobalKTable lookup join (`join`, `leftJoin`), as Kafka Streams' KStreamKTableJoin: a
 * record with a null (or undefined) value, or whose key selector returns null or undefined, is
 * skipped and counted as dropped; but a left join still joins a record whose own key is null (and
 * value is not), with no table value if its selector gave no key.
 */
class GlobalJoinProcessor<K, V, GV, VR> implements Processor<K, V, K, VR> {
  private context!: ProcessorContext<K, VR>;
  private table!: KeyValueStore<GV>;
  constructor(private readonly spec: GlobalJoinSpec<K, V, GV, VR>) {}
  init(context: ProcessorContext<K, VR>): void {
    this.context = context;
    this.table = context.getStateStore<GV>(this.spec.store);
  }
  async process(record: StreamRecord<K, V>): Promise<void> {
    const tableKey = this.spec.keySelector(record.key, record.value) as string | null | undefined;
    const missing = (x: unknown): boolean => x === null || x === undefined;
    const leftWithNullKey = !this.spec.inner && missing(record.key) && !missing(record.value);
    if (!leftWithNullKey && (missing(tableKey) || missing(record.value))) {
      return this.context.recordDropped('null join key or value');
    }
    const tableValue = missing(tableKey) ? undefined : await this.table.get(tableKey!);
    if (tableValue === undefined && this.spec.inner) return;
    const value = this.spec.joiner(record.value, tableValue, record.key);
    return this.context.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers });
  }
}

export function globalJoinProcessor<K, V, GV, VR>(spec: GlobalJoinSpec<K, V, GV, VR>): ProcessorSupplier<K, V, K, VR> {
  return () => new GlobalJoinProcessor(spec);
}
