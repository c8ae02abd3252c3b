import type { SinkSupplier } from './sink.js';
import type { DeserializationErrorPolicy, TopicNameExtractor } from './options.js';
import type { ProcessorSupplier } from './processor.js';
import type { Serde } from './serdes/serde.js';

/*
 * The immutable description a built Topology is made of. The runtime and the TopologyTestDriver read
 * these; users normally only print them through `describe()`. Topic names of internal (repartition)
 * topics are stored without the application id, as Kafka Streams does, and resolved per application
 * with `resolveTopic`.
 */

export interface SourceNodeSpec {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  /** Reads a repartition topic. */
  readonly internal: boolean;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly onDeserializationError: DeserializationErrorPolicy;
  /** Undefined means `<source topic>-dlq`. */
  readonly deadLetterTopic: string | undefined;
  readonly children: readonly string[];
}

export interface ProcessorNodeSpec {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  /** Stores (local or global) the processor may open through its context. */
  readonly stores: readonly string[];
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

export interface TopicSinkNodeSpec {
  readonly kind: 'topic-sink';
  readonly name: string;
  /** Undefined when `topicExtractor` picks the topic of each record. */
  readonly topic: string | undefined;
  /** `to(extractor)`: the topic per record, used as returned; such topics must exist. */
  readonly topicExtractor?: TopicNameExtractor<unknown, unknown>;
  /** Writes a repartition topic. */
  readonly internal: boolean;
  /** `repartition({ numberOfPartitions })`: partitions of the repartition topic it writes. */
  readonly numberOfPartitions?: number;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly parents: readonly string[];
}

export interface ExternalSinkNodeSpec {
  readonly kind: 'external-sink';
  readonly name: string;
  readonly sink: SinkSupplier<unknown, unknown>;
  readonly parents: readonly string[];
}

export type NodeSpec = SourceNodeSpec | ProcessorNodeSpec | TopicSinkNodeSpec | ExternalSinkNodeSpec;

export interface StoreSpec {
  readonly name: string;
  /** Needs a changelog topic `<applicationId>-<name>-changelog`. */
  readonly logged: boolean;
  readonly valueSerde: Serde<unknown> | undefined;
}

export interface SubTopologySpec {
  readonly id: number;
  /** In creation order: parents before children. */
  readonly nodes: readonly NodeSpec[];
  /** Unresolved names; see `internalTopics`. */
  readonly sourceTopics: readonly string[];
  readonly sinkTopics: readonly string[];
  /** The subset of source and sink topics that are repartition topics. */
  readonly internalTopics: readonly string[];
  /** Local stores: one instance per task. */
  readonly stores: readonly StoreSpec[];
  /** Global stores its processors read. */
  readonly globalStores: readonly string[];
}

/**
 * Folds one decoded record into what a global store holds for its key. Throwing rejects that record
 * alone (it is logged, counted and skipped); the store keeps its previous value.
 */
export type GlobalStoreMerge = (stored: unknown, incoming: unknown, key: string) => unknown;

export interface GlobalStoreSpec {
  readonly id: number;
  readonly storeName: string;
  readonly topic: string;
  readonly sourceName: string;
  readonly processorName: string;
  readonly keySerde: Serde<string>;
  readonly valueSerde: Serde<unknown>;
  readonly onDeserializationError: Exclude<DeserializationErrorPolicy, 'dead-letter'>;
  /** Undefined: each record replaces the stored value (a tombstone deletes it). */
  readonly merge: GlobalStoreMerge | undefined;
}

/** A repartition topic's real name is prefixed with the application id, as in Kafka Streams. */
export function resolveTopic(applicationId: string, topic: string, internal: boolean): string {
  return internal ? `${applicationId}-${topic}` : topic;
}
