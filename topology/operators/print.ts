import type { PrintedOptions } from '../options.js';
import type { ProcessorSupplier } from '../processor.js';
import { foreachProcessor } from './foreach.js';

/** Java's `String.valueOf` for our values: objects as JSON, Buffers as text, the rest as `String()`. */
function show(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * `print`: Kafka Streams' `PrintForeachAction`, one line `[label]: mapped` per record, where the
 * default mapping is `key, value` and the default label the processor's name.
 */
export function printProcessor<K, V>(options: PrintedOptions<K, V>, processorName: string): ProcessorSupplier<K, V> {
  const label = options.label ?? processorName;
  const mapper = options.mapper ?? ((key: K, value: V) => `${show(key)}, ${show(value)}`);
  const { logger } = options;
  const out = options.to ?? process.stdout;
  return foreachProcessor<K, V>((key, value) => {
    const line = `[${label}]: ${mapper(key, value)}`;
    if (logger !== undefined) logger.info(line);
    else out.write(`${line}\n`);
  });
}
