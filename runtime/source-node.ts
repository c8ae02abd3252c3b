import type { StreamRecord } from '../topology/record.js';
import type { SourceNodeSpec } from '../topology/topology-spec.js';
import { resolveTopic } from '../topology/topology-spec.js';
import { DeserializationError } from './deserialization-error.js';
import { dispatch, type ChildNode } from './forwarding.js';
import type { Logger } from './logger.js';
import type { RawRecord } from './raw-record.js';
import type { RecordCollector } from './record-collector.js';
import { recordContext } from './record-context.js';
import { headersOf } from './consumed-record.js';
import { deadLetterHeaders } from './dead-letter-headers.js';

/** Deserializes input records and hands them to its children; applies the source's error policy. */
export class SourceNode {
  readonly name: string;
  readonly #spec: SourceNodeSpec;
  readonly #applicationId: string;
  readonly #collector: RecordCollector;
  readonly #logger: Logger;
  readonly #taskId: string;
  #children: readonly ChildNode[] = [];

  constructor(spec: SourceNodeSpec, applicationId: string, collector: RecordCollector, logger: Logger, taskId: string) {
    this.name = spec.name;
    this.#taskId = taskId;
    this.#spec = spec;
    this.#applicationId = applicationId;
    this.#collector = collector;
    this.#logger = logger;
  }

  /** Resolved names of the topics it reads. */
  topics(): string[] {
    return this.#spec.topics.map((t) => resolveTopic(this.#applicationId, t, this.#spec.internal));
  }

  connect(children: readonly ChildNode[]): void {
    this.#children = children;
  }

  process(raw: RawRecord): void | Promise<void> {
    let record: StreamRecord<unknown, unknown>;
    try {
      record = {
        key: this.#spec.keySerde.deserialize(raw.topic, raw.key),
        value: this.#spec.valueSerde.deserialize(raw.topic, raw.value),
        timestamp: raw.timestamp,
        headers: raw.headers,
      };
    } catch (error) {
      return this.#reject(raw, error);
    }
    return dispatch(this.#children, record);
  }

  #reject(raw: RawRecord, error: unknown): void | Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    switch (this.#spec.onDeserializationError) {
      case 'fail':
        throw new DeserializationError(recordContext(this.#taskId, raw), { cause: error });
      case 'skip-and-log':
        this.#logger.warn(
          { topic: raw.topic, partition: raw.partition, offset: raw.offset, err: reason },
          'skipped a record that cannot be deserialized',
        );
        return;
      case 'dead-letter':
        return this.#collector.send({
          topic: this.#spec.deadLetterTopic ?? `${raw.topic}-dlq`,
          key: raw.key,
          value: raw.value,
          headers: headersOf(deadLetterHeaders(raw, reason)),
          timestamp: raw.timestamp,
          sourcePartition: raw.partition,
        });
    }
  }
}

