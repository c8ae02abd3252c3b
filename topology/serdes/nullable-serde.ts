import type { Serde } from './serde.js';

/** Lets Kafka's null (no key, tombstone) through as `null` instead of failing the inner serde. */
export function nullableSerde<T>(inner: Serde<T>): Serde<T | null> {
  return {
    serialize: (topic, value) => (value === null ? null : inner.serialize(topic, value)),
    deserialize: (topic, data) => (data === null ? null : inner.deserialize(topic, data)),
  };
}
