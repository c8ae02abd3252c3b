import { requireBytes, SerdeError, type Serde } from './serde.js';

/**
 * Anything that checks an unknown value and returns it typed, or throws. A zod schema fits as is,
 * so this package does not make zod part of its public types.
 */
export interface SchemaValidator<T> {
  parse(input: unknown): T;
}

/**
 * UTF-8 JSON. With a validator, every decoded value is checked (a failure becomes a SerdeError, which
 * sends the record to the dead-letter topic); without one, `T` is an unchecked promise like
 * `JSON.parse` itself, so prefer passing a schema for data that crosses a trust boundary.
 */
export function jsonSerde<T = unknown>(validator?: SchemaValidator<T>): Serde<T> {
  return {
    // JSON has a null (the text `null`, not a tombstone); undefined, functions and symbols have none.
    serialize: (topic, value) => {
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) throw new SerdeError(`json serde cannot serialize ${typeof value} for topic "${topic}"`);
      return Buffer.from(text, 'utf8');
    },
    deserialize: (topic, data) => {
      const text = requireBytes(data, 'json', topic).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        throw new SerdeError(`invalid JSON on topic "${topic}": ${(cause as Error).message}`, { cause });
      }
      if (validator === undefined) return parsed as T;
      try {
        return validator.parse(parsed);
      } catch (cause) {
        throw new SerdeError(`JSON on topic "${topic}" failed validation: ${(cause as Error).message}`, { cause });
      }
    },
  };
}
