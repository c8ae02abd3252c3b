import { InMemoryKeyValueStore } from '../statestores/in-memory-store.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { GlobalStoreSpec } from '../topology/topology-spec.js';
import { GlobalStateStore } from './global-state-store.js';
import type { ConsumedRecord, KafkaDriver, Reader } from './kafka/driver.js';
import type { Logger } from './logger.js';
import { toRawRecord } from './consumed-record.js';

/**
 * Fills every global store from its whole topic (all partitions, read_committed) before any task
 * starts, then keeps following the topics in the background. Global stores are small reference
 * tables (elections): in memory, rebuilt at every start.
 */
export class GlobalStoreThread {
  readonly stores = new Map<string, KeyValueStore<unknown>>();
  readonly #byTopic = new Map<string, GlobalStateStore>();
  readonly #specs: readonly GlobalStoreSpec[];
  readonly #driver: KafkaDriver;
  readonly #log: Logger;
  #reader: Reader | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;

  constructor(specs: readonly GlobalStoreSpec[], driver: KafkaDriver, logger: Logger) {
    this.#specs = specs;
    this.#driver = driver;
    this.#log = logger.child({ thread: 'global' });
  }

  /** Resolves once every global topic has been read to its end. */
  async start(partitionCounts: ReadonlyMap<string, number>): Promise<void> {
    if (this.#specs.length === 0) return;
    for (const spec of this.#specs) {
      const store = new InMemoryKeyValueStore<unknown>(spec.storeName);
      await store.open();
      this.stores.set(spec.storeName, store);
      this.#byTopic.set(spec.topic, new GlobalStateStore(spec, store, this.#log));
    }
    this.#reader = await this.#driver.createReader({
      partitions: this.#specs.flatMap((spec) =>
        Array.from({ length: partitionCounts.get(spec.topic) ?? 1 }, (_, partition) => ({ topic: spec.topic, partition, from: 'earliest' as const })),
      ),
      isolation: 'read_committed',
      clientId: 'global-stores',
    });
    const started = Date.now();
    const result = await this.#reader.readToEnd((batch) => this.#apply(batch));
    this.#log.info({ topics: this.#specs.map((s) => s.topic), records: result.records, ms: Date.now() - started }, 'global stores loaded');
    this.#loop = this.#follow();
  }

  async #apply(batch: readonly ConsumedRecord[]): Promise<void> {
    for (const r of batch) {
      await this.#byTopic.get(r.topic)?.update(toRawRecord(r));
    }
  }

  async #follow(): Promise<void> {
    while (!this.#stopping) {
      try {
        const batch = await this.#reader!.poll({ maxWaitMs: 500 });
        await this.#apply(batch);
      } catch (err) {
        if (this.#stopping) return;
        this.#log.warn({ err: (err as Error).message }, 'global store update failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    await this.#reader?.close();
    for (const store of this.stores.values()) await store.close();
  }
}
