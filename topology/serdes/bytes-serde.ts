import { requireBytes, requireValue, SerdeError, type Serde } from './serde.js';

/** The bytes as they are (Kafka's BytesSerde); for DLQ readers and pass-through topics. */
export function bytesSerde(): Serde<Buffer> {
  return {
    serialize: (topic, value) => {
      if (!Buffer.isBuffer(requireValue(value, 'bytes', topic))) {
        throw new SerdeError(`bytes serde cannot serialize a ${typeof value} for topic "${topic}"`);
      }
      return value;
    },
    deserialize: (topic, data) => requireBytes(data, 'bytes', topic),
  };
}
