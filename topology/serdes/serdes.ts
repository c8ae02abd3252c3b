import { bytesSerde } from './bytes-serde.js';
import { jsonSerde } from './json-serde.js';
import { nullableSerde } from './nullable-serde.js';
import { doubleSerde, int32Serde, int64Serde } from './number-serdes.js';
import { stringSerde } from './string-serde.js';

/** The built-in serdes under one name, as in Kafka's `Serdes.String()`. */
export const Serdes = Object.freeze({
  string: stringSerde,
  json: jsonSerde,
  bytes: bytesSerde,
  int32: int32Serde,
  int64: int64Serde,
  double: doubleSerde,
  nullable: nullableSerde,
});
