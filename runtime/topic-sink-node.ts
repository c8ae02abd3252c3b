import type { TopicNameExtractorContext, TopicNameExtractor } from '../topology/options.js';
import type { RecordMetadata, StreamRecord } from '../topology/record.js';
import { SerdeError } from '../topology/serdes/serde.js';
import { assertTopicName } from '../topology/internal/topology-graph.js';
import { resolveTopic, type TopicSinkNodeSpec } from '../topology/topology-spec.js';
import { TopologyError } from '../topology/topology-error.js';
import type { ChildNode } from './forwarding.js';
import type { RecordCollector } from './record-collector.js';

/**
 * Serializes records and sends them to a topic through the task's collector: the spec's topic, or
 * the one its extractor picks per record (used as returned; it must exist, as in Kafka Streams).
 */
export class TopicSinkNode implements ChildNode {
  readonly name: string;
  /** Undefined for an extractor sink. */
  readonly topic: string | undefined;
  readonly #spec: TopicSinkNodeSpec;
  readonly #collector: RecordCollector;
  readonly #extractor: TopicNameExtractor<unknown, unknown> | undefined;
  readonly #metadata: () => RecordMetadata | undefined;

  constructor(spec: TopicSinkNodeSpec, applicationId: string, collector: RecordCollector, metadata: () => RecordMetadata | undefined = () => undefined) {
    this.name = spec.name;
    this.topic = spec.topic === undefined ? undefined : resolveTopic(applicationId, spec.topic, spec.internal);
    this.#spec = spec;
    this.#collector = collector;
    this.#extractor = spec.topicExtractor;
    this.#metadata = metadata;
  }

  process(record: StreamRecord<unknown, unknown>): void | Promise<void> {
    const topic = this.topic ?? this.#extract(record);
    let key: Buffer | null;
    let value: Buffer | null;
    try {
      key = this.#spec.keySerde.serialize(topic, record.key);
      value = this.#spec.valueSerde.serialize(topic, record.value);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SerdeError(`Sink "${this.name}" cannot serialize a record for topic "${topic}": ${reason}`, { cause });
    }
    // A null key places nothing: the record follows its input's partition, not the client's round-robin.
    const sourcePartition = key === null ? this.#metadata()?.partition : undefined;
    return this.#collector.send({ topic, key, value, headers: record.headers, timestamp: record.timestamp, sourcePartition });
  }

  #extract(record: StreamRecord<unknown, unknown>): string {
    const source = this.#metadata();
    const context: TopicNameExtractorContext = {
      topic: source?.topic,
      partition: source?.partition,
      offset: source?.offset,
      timestamp: record.timestamp,
      headers: record.headers,
    };
    const topic = this.#extractor!(record.key, record.value, context);
    try {
      assertTopicName(topic);
    } catch {
      throw new TopologyError(`Sink "${this.name}": its topic name extractor returned an invalid topic name "${String(topic)}"`);
    }
    return topic;
  }
}
