import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { GlobalStoreSpec } from '../topology/topology-spec.js';
import { DeserializationError } from './deserialization-error.js';
import type { Logger } from './logger.js';
import type { RawRecord } from './raw-record.js';
import { recordContext } from './record-context.js';

/** Why a global table record was not applied. */
export type GlobalSkipReason = 'undecodable' | 'rejected';

export type GlobalUpdateOutcome = 'applied' | GlobalSkipReason;

/**
 * Keeps a global table's store in step with its topic: each record is an upsert (or folded in with
 * the table's `merge`), a null value (a tombstone) a delete. The runtime feeds it the whole topic
 * before starting tasks and then keeps up; the TopologyTestDriver feeds it piped records.
 *
 * A record that cannot be decoded or that `merge` refuses is skipped alone, so one bad record never
 * keeps the records after it from every process (a reference table that stops updating is worse
 * than a missing entry: it is silently stale). Only the `fail` policy turns an undecodable record
 * into an error, and only where the caller chooses to honour it (`strict`).
 */
export class GlobalStateStore {
  readonly spec: GlobalStoreSpec;
  readonly store: KeyValueStore<unknown>;
  readonly #logger: Logger | undefined;
  readonly #onSkip: ((reason: GlobalSkipReason) => void) | undefined;

  constructor(spec: GlobalStoreSpec, store: KeyValueStore<unknown>, logger?: Logger, onSkip?: (reason: GlobalSkipReason) => void) {
    this.spec = spec;
    this.store = store;
    this.#logger = logger;
    this.#onSkip = onSkip;
  }

  get topic(): string {
    return this.spec.topic;
  }

  /**
   * Applies one record. Store errors propagate (the caller retries the record); record errors are
   * logged, counted and reported as the outcome. With `strict`, an undecodable record under the
   * `fail` policy throws a DeserializationError instead.
   */
  async update(record: RawRecord, options: { readonly strict?: boolean } = {}): Promise<GlobalUpdateOutcome> {
    let key: string;
    let value: unknown;
    try {
      key = this.spec.keySerde.deserialize(record.topic, record.key);
      value = record.value === null ? null : this.spec.valueSerde.deserialize(record.topic, record.value);
    } catch (error) {
      if (this.spec.onDeserializationError === 'fail' && options.strict !== false) {
        throw new DeserializationError(recordContext(`global:${this.spec.storeName}`, record), { cause: error });
      }
      return this.#skip(record, 'undecodable', error);
    }
    if (value === null) {
      // What `merge` accumulates (a history) is what later readers rely on; a tombstone erasing it
      // would make the table depend on how far a reader got.
      if (this.spec.merge !== undefined) return this.#skip(record, 'rejected', 'a tombstone cannot delete what merge accumulated');
      await this.store.delete(key);
      return 'applied';
    }
    if (this.spec.merge !== undefined) {
      const stored = await this.store.get(key);
      try {
        value = this.spec.merge(stored, value, key);
      } catch (error) {
        return this.#skip(record, 'rejected', error);
      }
    }
    await this.store.put(key, value);
    return 'applied';
  }

  #skip(record: RawRecord, reason: GlobalSkipReason, error: unknown): GlobalSkipReason {
    this.#logger?.warn(
      { store: this.spec.storeName, topic: record.topic, partition: record.partition, offset: record.offset, reason, err: error instanceof Error ? error.message : String(error) },
      reason === 'undecodable' ? 'skipped a global table record that cannot be deserialized' : 'skipped a global table record its table refused',
    );
    this.#onSkip?.(reason);
    return reason;
  }
}
