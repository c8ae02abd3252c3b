import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { GlobalStoreSpec } from '../topology/topology-spec.js';
import { DeserializationError } from './deserialization-error.js';
import type { Logger } from './logger.js';
import type { RawRecord } from './raw-record.js';

/**
 * Keeps a global table's store in step with its topic: each record is an upsert, a null value (a
 * tombstone) a delete. The runtime feeds it the whole topic before starting tasks and then keeps
 * up; the TopologyTestDriver feeds it piped records.
 */
export class GlobalStateStore {
  readonly spec: GlobalStoreSpec;
  readonly store: KeyValueStore<unknown>;
  readonly #logger: Logger | undefined;

  constructor(spec: GlobalStoreSpec, store: KeyValueStore<unknown>, logger?: Logger) {
    this.spec = spec;
    this.store = store;
    this.#logger = logger;
  }

  get topic(): string {
    return this.spec.topic;
  }

  async update(record: RawRecord): Promise<void> {
    let key: string;
    let value: unknown;
    try {
      key = this.spec.keySerde.deserialize(record.topic, record.key);
      value = record.value === null ? null : this.spec.valueSerde.deserialize(record.topic, record.value);
    } catch (error) {
      if (this.spec.onDeserializationError === 'fail') {
        throw new DeserializationError(record.topic, record.partition, record.offset, { cause: error });
      }
      this.#logger?.warn(
        { topic: record.topic, partition: record.partition, offset: record.offset, err: String(error) },
        'skipped a global table record that cannot be deserialized',
      );
      return;
    }
    if (value === null) await this.store.delete(key);
    else await this.store.put(key, value);
  }
}
