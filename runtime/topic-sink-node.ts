import type { StreamRecord } from '../topology/record.js';
import { SerdeError } from '../topology/serdes/serde.js';
import { resolveTopic, type TopicSinkNodeSpec } from '../topology/topology-spec.js';
import type { ChildNode } from './forwarding.js';
import type { RecordCollector } from './record-collector.js';

/** Serializes records and sends them to a topic through the task's collector. */
export class TopicSinkNode implements ChildNode {
  readonly name: string;
  readonly topic: string;
  readonly #spec: TopicSinkNodeSpec;
  readonly #collector: RecordCollector;

  constructor(spec: TopicSinkNodeSpec, applicationId: string, collector: RecordCollector) {
    this.name = spec.name;
    this.topic = resolveTopic(applicationId, spec.topic, spec.internal);
    this.#spec = spec;
    this.#collector = collector;
  }

  process(record: StreamRecord<unknown, unknown>): void | Promise<void> {
    let key: Buffer | null;
    let value: Buffer | null;
    try {
      key = this.#spec.keySerde.serialize(this.topic, record.key);
      value = this.#spec.valueSerde.serialize(this.topic, record.value);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SerdeError(`Sink "${this.name}" cannot serialize a record for topic "${this.topic}": ${reason}`, { cause });
    }
    return this.#collector.send({ topic: this.topic, key, value, headers: record.headers, timestamp: record.timestamp });
  }
}
