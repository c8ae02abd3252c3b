import type { Sink, SinkRecord } from '../topology/sink.js';
import type { RecordMetadata, StreamRecord } from '../topology/record.js';
import { InfrastructureError } from './errors.js';
import type { ChildNode } from './forwarding.js';

/**
 * Buffers the records reaching a `to(sink)` node and hands them to the sink at commit, or as soon
 * as `batchSize` are waiting, so a sink sees large batches and the per-record path stays in memory.
 */
export class ExternalSinkNode implements ChildNode {
  readonly name: string;
  readonly #sink: Sink<unknown, unknown>;
  readonly #batchSize: number;
  readonly #partition: number;
  readonly #metadata: () => RecordMetadata | undefined;
  #buffer: SinkRecord<unknown, unknown>[] = [];

  constructor(
    name: string,
    sink: Sink<unknown, unknown>,
    batchSize: number,
    partition: number,
    metadata: () => RecordMetadata | undefined,
  ) {
    this.name = name;
    this.#sink = sink;
    this.#batchSize = batchSize;
    this.#partition = partition;
    this.#metadata = metadata;
  }

  process(record: StreamRecord<unknown, unknown>): void | Promise<void> {
    const source = this.#metadata();
    this.#buffer.push({
      topic: source?.topic ?? '',
      partition: source?.partition ?? this.#partition,
      offset: source?.offset ?? -1,
      timestamp: record.timestamp,
      key: record.key,
      value: record.value,
      headers: record.headers,
    });
    if (this.#buffer.length >= this.#batchSize) return this.#write();
  }

  /** At commit: the remaining records, then the sink's flush hook. */
  async commit(): Promise<void> {
    await this.#write();
    await asInfrastructure(this.name, this.#sink.flush());
  }

  /**
   * A failed write loses nothing: the runtime drops the uncommitted work (this buffer included)
   * and replays it from the committed offsets, and the sink's fence skips what did land.
   */
  async #write(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    await asInfrastructure(this.name, this.#sink.write(batch));
  }
}

/**
 * Whatever a sink throws is about its service, never about one record (DESIGN section 4), so the
 * runtime must not dead-letter the batch: errors leave here as InfrastructureError.
 */
async function asInfrastructure(node: string, work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (err instanceof InfrastructureError) throw err;
    throw new InfrastructureError(`sink ${node} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
