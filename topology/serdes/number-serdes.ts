import { requireBytes, requireValue, SerdeError, type Serde } from './serde.js';

/**
 * Fixed-width big-endian numbers, byte-compatible with Kafka's IntegerSerde, LongSerde and
 * DoubleSerde, so Java consumers and tools read them. int64 is a bigint because a JS number
 * cannot hold every long.
 */
function fixedWidth<T>(
  name: string,
  type: 'number' | 'bigint',
  width: number,
  write: (buf: Buffer, value: T) => void,
  read: (buf: Buffer) => T,
): Serde<T> {
  return {
    serialize: (topic, value) => {
      if (typeof requireValue(value, name, topic) !== type) {
        throw new SerdeError(`${name} serde cannot serialize a ${typeof value} for topic "${topic}"`);
      }
      const buf = Buffer.allocUnsafe(width);
      write(buf, value);
      return buf;
    },
    deserialize: (topic, data) => {
      const buf = requireBytes(data, name, topic);
      if (buf.length !== width) {
        throw new SerdeError(`${name} serde expects ${width} bytes on topic "${topic}", got ${buf.length}`);
      }
      return read(buf);
    },
  };
}

export function int32Serde(): Serde<number> {
  return fixedWidth(
    'int32',
    'number',
    4,
    (buf, value) => {
      if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
        throw new SerdeError(`int32 serde cannot represent ${value}`);
      }
      buf.writeInt32BE(value, 0);
    },
    (buf) => buf.readInt32BE(0),
  );
}

export function int64Serde(): Serde<bigint> {
  return fixedWidth(
    'int64',
    'bigint',
    8,
    (buf, value) => {
      if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new SerdeError(`int64 serde cannot represent ${value}`);
      buf.writeBigInt64BE(value, 0);
    },
    (buf) => buf.readBigInt64BE(0),
  );
}

export function doubleSerde(): Serde<number> {
  return fixedWidth(
    'double',
    'number',
    8,
    (buf, value) => buf.writeDoubleBE(value, 0),
    (buf) => buf.readDoubleBE(0),
  );
}
