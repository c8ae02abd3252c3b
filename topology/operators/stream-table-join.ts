import type { KeyValueStore } from '../../statestores/key-value-store.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { StreamRecord } from '../record.js';

/**
 * How a KTable is read by key (Kafka Streams' value getter): the store that materializes it (its
 * own, or the nearest materialized parent's) and the view of its filters and mappers on top.
 * `view` returns undefined for a key the table does not have.
 */
export interface TableValueGetter<K, V> {
  readonly store: string;
  view(key: K, stored: unknown): V | undefined;
}

export interface StreamTableJoinSpec<K, V, TV, VR> {
  readonly table: TableValueGetter<K, TV>;
  readonly joiner: (value: V, tableValue: TV | null, key: K) => VR;
  /** Inner joins drop records with no table value; left joins pass null to the joiner. */
  readonly inner: boolean;
}

/**
 * KStream-KTable join (Kafka Streams' KStreamKTableJoinProcessor): each stream record looks its key
 * up in the table's current state; table updates trigger nothing. Stream records with a null key
 * or value are dropped. The output keeps the stream record's key, timestamp and headers.
 */
class StreamTableJoinProcessor<K, V, TV, VR> implements Processor<K, V, K, VR> {
  private context!: ProcessorContext<K, VR>;
  private store!: KeyValueStore<unknown>;
  constructor(private readonly spec: StreamTableJoinSpec<K, V, TV, VR>) {}
  init(context: ProcessorContext<K, VR>): void {
    this.context = context;
    this.store = context.getStateStore<unknown>(this.spec.table.store);
  }
  async process(record: StreamRecord<K, V>): Promise<void> {
    const { key, value } = record;
    if (key === null || key === undefined || value === null || value === undefined) return;
    const stored = await this.store.get(key as unknown as string);
    const tableValue = stored === undefined ? undefined : this.spec.table.view(key, stored);
    if (tableValue === undefined && this.spec.inner) return;
    const joined = this.spec.joiner(value, tableValue ?? null, key);
    return this.context.forward({ key, value: joined, timestamp: record.timestamp, headers: record.headers });
  }
}

export function streamTableJoinProcessor<K, V, TV, VR>(spec: StreamTableJoinSpec<K, V, TV, VR>): ProcessorSupplier<K, V, K, VR> {
  return () => new StreamTableJoinProcessor(spec);
}
