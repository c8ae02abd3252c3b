import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../../runtime/logger.js';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import type { StreamsBuilder } from '../../../../topology/streams-builder.js';
import type { ProcessorSupplier } from '../../../../topology/processor.js';
import type { StreamRecord } from '../../../../topology/record.js';

/**
 * Shared by the Kafka Streams compatibility suite: each file mirrors one Kafka Streams test class,
 * each case one of its test methods (same name), with Kafka Streams' expected outputs. Where
 * votestream differs on purpose, the case says so in a `DIFFERENCE:` comment and asserts our
 * behaviour (the README lists every difference).
 */

/** Kafka's KeyValueTimestamp, as the test classes compare processed records. */
export interface KeyValueTimestamp<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
}

export function kvt<K, V>(key: K, value: V, timestamp: number): KeyValueTimestamp<K, V> {
  return { key, value, timestamp };
}

/** Kafka's MockApiProcessorSupplier: captures every record its processor receives. */
export class MockProcessorSupplier<K, V> {
  readonly processed: KeyValueTimestamp<K, V>[] = [];

  readonly supplier: ProcessorSupplier<K, V, never, never> = () => {
    const processed = this.processed;
    return {
      process(record: StreamRecord<K, V>): void {
        processed.push({ key: record.key, value: record.value, timestamp: record.timestamp });
      },
    };
  };

  /** Kafka's MockApiProcessor.checkAndClearProcessResult. */
  checkAndClearProcessResult(): KeyValueTimestamp<K, V>[] {
    return this.processed.splice(0);
  }

  /** Kafka's lastValueAndTimestampPerKey. */
  lastValueAndTimestampPerKey(): Map<K, { value: V; timestamp: number }> {
    return new Map(this.processed.map((r) => [r.key, { value: r.value, timestamp: r.timestamp }]));
  }
}

/** A logger whose JSON lines are kept, like Kafka's LogCaptureAppender. */
export function captureLogs(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Kafka's StreamsTestUtils for the stateless operator tests: builds, runs `feed`, closes. */
export async function withDriver(builder: StreamsBuilder, feed: (driver: TopologyTestDriver) => Promise<void>): Promise<void> {
  const driver = new TopologyTestDriver(builder.build());
  try {
    await feed(driver);
  } finally {
    await driver.close();
  }
}
