import type { Serde } from './serde.js';

/**
 * Lets Kafka's null (no key, tombstone) through as `null` instead of failing the inner serde;
 * undefined is written as null too.
 */
export function nullableSerde<T>(inner: Serde<T>): Serde<T | null> {
  return {
    serialize: (topic, value) => (value === null || value === undefined ? null : inner.serialize(topic, value)),
    deserialize: (topic, data) => (data === null ? null : inner.deserialize(topic, data)),
  };
}
