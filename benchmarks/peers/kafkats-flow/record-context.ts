/**
 * Where the record being processed came from, for a @kafkats/flow topology. Flow's DSL callbacks see
 * only (key, value): no partition, offset, timestamp or headers, and no Processor API to ask for them.
 * Our outputs need them (`source` on votes-accepted, the dead-letter headers, the MAX_VOTE_AHEAD_MS
 * rule), so the client handed to flow wraps each consumer's `runEach` handler: every message runs
 * inside an AsyncLocalStorage scope holding its metadata, which the callbacks read. Flow queues each
 * message on its exactly-once chain with `.then` from inside that scope, so the scope follows it.
 */
import { BenchmarkError } from '../../errors.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { KafkaClient, type ConsumeContext, type Consumer, type ConsumerConfig, type Message } from '@kafkats/client';

export interface RecordContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** The record's timestamp, ms. */
  readonly timestamp: number;
  /**
   * The very object flow passes on as the record's headers (and writes with every output of it), a
   * fresh copy per message: adding to it sets the headers of what this record produces.
   */
  readonly headers: Record<string, Buffer>;
}

const storage = new AsyncLocalStorage<RecordContext>();

/** The metadata of the message being processed; throws outside of one (a bug, not a record error). */
export function currentRecord(): RecordContext {
  const ctx = storage.getStore();
  if (ctx === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', 'no record context: called outside of a flow message handler');
  return ctx;
}

/** runEach as flow calls it (topic names, a Buffer handler): the library's generic signature is too deep to spell. */
type PlainRunEach = (subscription: unknown, handler: (message: Message, ctx: ConsumeContext) => Promise<void>, options?: unknown) => Promise<void>;

/** A KafkaClient whose consumers run every message handler inside its RecordContext. */
export class RecordContextClient extends KafkaClient {
  override consumer(config: ConsumerConfig): Consumer {
    const consumer = super.consumer(config);
    const runEach = (consumer.runEach as unknown as PlainRunEach).bind(consumer);
    const wrapped: PlainRunEach = (subscription, handler, options) =>
      runEach(
        subscription,
        (message, ctx) => {
          const headers = { ...message.headers };
          const context: RecordContext = { topic: message.topic, partition: message.partition, offset: message.offset, timestamp: Number(message.timestamp), headers };
          return storage.run(context, () => handler({ ...message, headers }, ctx));
        },
        options,
      );
    (consumer as unknown as { runEach: PlainRunEach }).runEach = wrapped;
    return consumer;
  }
}
