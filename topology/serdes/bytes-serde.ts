import { requireBytes, type Serde } from './serde.js';

/** The bytes as they are (Kafka's BytesSerde); for DLQ readers and pass-through topics. */
export function bytesSerde(): Serde<Buffer> {
  return {
    serialize: (_topic, value) => value,
    deserialize: (topic, data) => requireBytes(data, 'bytes', topic),
  };
}
