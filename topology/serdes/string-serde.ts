import { requireBytes, type Serde } from './serde.js';

/** UTF-8 text, like Kafka's StringSerde. */
export function stringSerde(): Serde<string> {
  return {
    serialize: (_topic, value) => Buffer.from(value, 'utf8'),
    deserialize: (topic, data) => requireBytes(data, 'string', topic).toString('utf8'),
  };
}
