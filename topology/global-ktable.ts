import type { Serde } from './serdes/serde.js';

/**
 * A table replicated in full to every task from a (compacted) topic; joined by lookup, so streams
 * need no co-partitioning with it. Keys are strings: they are the keys of its store.
 */
export class GlobalKTable<K extends string, V> {
  readonly storeName: string;
  readonly topic: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;

  /** @internal Created by StreamsBuilder.globalTable. */
  constructor(storeName: string, topic: string, keySerde: Serde<K>, valueSerde: Serde<V>) {
    this.storeName = storeName;
    this.topic = topic;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    Object.freeze(this);
  }
}
