import { SerdeError, type Serde } from './serde.js';

/**
 * A value with the timestamp of the record that last changed it: what an aggregation's store keeps
 * per key, as in Kafka Streams' TimestampedKeyValueStore, so that an updated aggregate carries
 * max(record timestamp, previous aggregate timestamp).
 */
export interface ValueAndTimestamp<V> {
  readonly value: V;
  readonly timestamp: number;
}

const TIMESTAMPED = Symbol('votestream.timestamped-serde');

/** The changelog serde of a store of ValueAndTimestamp; `inner` is the value's (undefined: JSON). */
export interface TimestampedSerde<V> extends Serde<ValueAndTimestamp<V>> {
  readonly [TIMESTAMPED]: true;
  readonly inner: Serde<V> | undefined;
}

/**
 * Kafka's ValueAndTimestampSerializer layout: the timestamp as 8 big-endian bytes, then the value's
 * bytes (its serde's, or UTF-8 JSON without one). A value its serde writes as null is just the 8 bytes.
 */
export function timestampedSerde<V>(inner: Serde<V> | undefined): TimestampedSerde<V> {
  return {
    [TIMESTAMPED]: true,
    inner,
    serialize: (topic, entry) => {
      if (entry === null || entry === undefined) throw new SerdeError(`timestamped serde cannot serialize ${String(entry)} for topic "${topic}"`);
      const value = inner === undefined ? Buffer.from(JSON.stringify(entry.value), 'utf8') : inner.serialize(topic, entry.value);
      const ts = Buffer.allocUnsafe(8);
      ts.writeBigInt64BE(BigInt(entry.timestamp), 0);
      return value === null ? ts : Buffer.concat([ts, value]);
    },
    deserialize: (topic, data) => {
      if (data === null || data.length < 8) {
        throw new SerdeError(`timestamped serde expects at least 8 bytes on topic "${topic}", got ${data === null ? 'null' : data.length}`);
      }
      const timestamp = Number(data.readBigInt64BE(0));
      const rest = data.length === 8 && inner !== undefined ? null : data.subarray(8);
      let value: V;
      try {
        value = inner === undefined ? (JSON.parse(rest!.toString('utf8')) as V) : inner.deserialize(topic, rest);
      } catch (cause) {
        if (cause instanceof SerdeError) throw cause;
        throw new SerdeError(`invalid timestamped value on topic "${topic}": ${(cause as Error).message}`, { cause });
      }
      return { value, timestamp };
    },
  };
}

/** Whether a store's serde says it keeps ValueAndTimestamp entries (an aggregation's store). */
export function isTimestampedSerde(serde: Serde<unknown> | undefined): serde is TimestampedSerde<unknown> {
  return typeof serde === 'object' && serde !== null && TIMESTAMPED in serde;
}
