/** Kafka record headers. Values are bytes, as on the wire. */
export type Headers = Readonly<Record<string, Buffer>>;

/** A record as it flows between processors: typed key and value, plus time and headers. */
export interface StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** Milliseconds since the epoch; output records inherit their input's timestamp. */
  readonly timestamp: number;
  readonly headers: Headers;
}

/** Where the record being processed came from. Absent inside a punctuator. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** What `map` and `flatMap` return. */
export interface KeyValuePair<K, V> {
  readonly key: K;
  readonly value: V;
}
