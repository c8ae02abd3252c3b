import type { Headers, KeyValuePair } from '../topology/record.js';
import type { Serde } from '../topology/serdes/serde.js';
import type { RawRecord } from './raw-record.js';

/** An output record as a test reads it. */
export interface TestRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: Headers;
  readonly partition: number;
}

export interface PipedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Undefined: the driver's wall-clock time. */
  readonly timestamp: number | undefined;
  readonly headers: Headers;
}

/** Writes typed records into a topic of a TopologyTestDriver; each pipe runs to completion. */
export class TestInputTopic<K, V> {
  readonly name: string;
  readonly #keySerde: Serde<K>;
  readonly #valueSerde: Serde<V>;
  readonly #pipe: (record: PipedRecord) => Promise<void>;

  /** @internal Created by TopologyTestDriver.createInputTopic. */
  constructor(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, pipe: (record: PipedRecord) => Promise<void>) {
    this.name = name;
    this.#keySerde = keySerde;
    this.#valueSerde = valueSerde;
    this.#pipe = pipe;
  }

  /** Resolves once the record and everything it caused (repartitions included) are processed. */
  pipeInput(key: K, value: V, timestampMs?: number, headers: Headers = {}): Promise<void> {
    return this.#pipe({
      key: this.#keySerde.serialize(this.name, key),
      value: this.#valueSerde.serialize(this.name, value),
      timestamp: timestampMs,
      headers,
    });
  }

  /** Pipes in order; timestamps start at `startTimestampMs` (default: wall clock) and grow by `advanceMs`. */
  async pipeKeyValueList(pairs: readonly KeyValuePair<K, V>[], startTimestampMs?: number, advanceMs = 0): Promise<void> {
    let timestamp = startTimestampMs;
    for (const pair of pairs) {
      await this.pipeInput(pair.key, pair.value, timestamp);
      if (timestamp !== undefined) timestamp += advanceMs;
    }
  }
}

/** Reads (and consumes) what a topology wrote to a topic, in write order. */
export class TestOutputTopic<K, V> {
  readonly name: string;
  readonly #keySerde: Serde<K>;
  readonly #valueSerde: Serde<V>;
  readonly #queue: RawRecord[];

  /** @internal Created by TopologyTestDriver.createOutputTopic; `queue` is the driver's capture of the topic. */
  constructor(name: string, keySerde: Serde<K>, valueSerde: Serde<V>, queue: RawRecord[]) {
    this.name = name;
    this.#keySerde = keySerde;
    this.#valueSerde = valueSerde;
    this.#queue = queue;
  }

  isEmpty(): boolean {
    return this.#queue.length === 0;
  }

  getQueueSize(): number {
    return this.#queue.length;
  }

  readRecord(): TestRecord<K, V> {
    const raw = this.#queue.shift();
    if (raw === undefined) throw new RangeError(`No record left in output topic "${this.name}"`);
    return {
      key: this.#keySerde.deserialize(this.name, raw.key),
      value: this.#valueSerde.deserialize(this.name, raw.value),
      timestamp: raw.timestamp,
      headers: raw.headers,
      partition: raw.partition,
    };
  }

  readKeyValue(): KeyValuePair<K, V> {
    const { key, value } = this.readRecord();
    return { key, value };
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const records: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) records.push(this.readRecord());
    return records;
  }

  readKeyValuesToList(): KeyValuePair<K, V>[] {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }));
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map((r) => r.value);
  }
}
