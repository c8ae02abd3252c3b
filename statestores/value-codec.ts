/**
 * How a store turns values into the bytes LevelDB keeps (and digest.ts hashes). Only the layers
 * that touch bytes use a codec; every other layer passes values through untouched.
 */
export interface ValueCodec<V> {
  /** For messages and metadata only. */
  readonly name: string;
  encode(value: V): Uint8Array;
  /** May throw on malformed bytes; the LevelDB store turns that into a StoreCorruptionError. */
  decode(bytes: Uint8Array): V;
}

function toBuffer(bytes: Uint8Array): Buffer {
  // LevelDB hands out Buffers already; a view over the same memory avoids a copy otherwise.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * JSON through UTF-8. Object properties keep their insertion order, so a value that was decoded
 * and re-encoded yields the same bytes (what digest.ts relies on when it compares two stores).
 */
export function jsonCodec<V>(): ValueCodec<V> {
  return {
    name: 'json',
    encode(value: V): Uint8Array {
      const text = JSON.stringify(value);
      // JSON.stringify returns undefined for undefined, functions and symbols: nothing to store.
      if (text === undefined) throw new TypeError(`value is not JSON-serialisable (${typeof value})`);
      return Buffer.from(text, 'utf8');
    },
    decode(bytes: Uint8Array): V {
      return JSON.parse(toBuffer(bytes).toString('utf8')) as V;
    },
  };
}

/** Plain strings as UTF-8: the voters store keeps a voteId per key, no JSON quotes needed. */
export const utf8Codec: ValueCodec<string> = {
  name: 'utf8',
  encode: (value) => Buffer.from(value, 'utf8'),
  decode: (bytes) => toBuffer(bytes).toString('utf8'),
};

/** Bytes as they are, for callers that serialise themselves (e.g. with a topology serde). */
export const bufferCodec: ValueCodec<Buffer> = {
  name: 'buffer',
  encode: (value) => value,
  decode: (bytes) => toBuffer(bytes),
};
