import { VotestreamError } from '../../statestores/votestream-error.js';

/**
 * Turns a value into the bytes of a Kafka key or value and back. `null` bytes are Kafka's "no key" /
 * tombstone; a serde that cannot represent them throws, so that the gap shows up in the type
 * (wrap it with `Serdes.nullable` to accept them).
 */
export interface Serde<T> {
  serialize(topic: string, value: T): Buffer | null;
  deserialize(topic: string, data: Buffer | null): T;
}

/** A key/value serde pair, as given to sources, sinks and repartitions. */
export interface KeyValueSerdes<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
}

/** A serde could not turn bytes into a value (or a value into bytes). */
export class SerdeError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERDE', message, options);
  }
}

/**
 * The one rule for null: a serde that cannot represent null (or undefined) throws a SerdeError on
 * serialize, and on deserializing Kafka's null (no key, tombstone); `Serdes.nullable(inner)` carries
 * nulls. Shared by the built-in serdes.
 */
export function requireValue<T>(value: T | null | undefined, serdeName: string, topic: string): T {
  if (value === null || value === undefined) {
    throw new SerdeError(`${serdeName} serde cannot serialize ${String(value)} for topic "${topic}": wrap it with Serdes.nullable`);
  }
  return value;
}

/** Shared by the built-in serdes: they have no representation for Kafka's null. */
export function requireBytes(data: Buffer | null, serdeName: string, topic: string): Buffer {
  if (data === null) throw new SerdeError(`${serdeName} serde cannot deserialize null data from topic "${topic}"`);
  return data;
}
