import { requireBytes, requireValue, SerdeError, type Serde } from './serde.js';

/** UTF-8 text, like Kafka's StringSerde. */
export function stringSerde(): Serde<string> {
  return {
    serialize: (topic, value) => {
      if (typeof requireValue(value, 'string', topic) !== 'string') {
        throw new SerdeError(`string serde cannot serialize a ${typeof value} for topic "${topic}"`);
      }
      return Buffer.from(value, 'utf8');
    },
    deserialize: (topic, data) => requireBytes(data, 'string', topic).toString('utf8'),
  };
}
