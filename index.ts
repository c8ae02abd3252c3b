// The public API of votestream. Each area keeps its exports in its own block.

// --- topology: the DSL, the Processor API, serdes, the Topology description ---
export { StreamsBuilder } from './topology/streams-builder.js';
export type { KStream, DedupedStreams } from './topology/kstream.js';
export type { BranchedKStream } from './topology/branched-kstream.js';
export type { KGroupedStream } from './topology/kgrouped-stream.js';
export type { KTable } from './topology/ktable.js';
export type { GlobalKTable } from './topology/global-ktable.js';
export type {
  DedupeOptions,
  DeserializationErrorPolicy,
  GlobalTableOptions,
  GroupedOptions,
  MaterializedOptions,
  Named,
  SinkTopicOptions,
  SourceOptions,
  StoreOptions,
} from './topology/options.js';
export type {
  Cancellable,
  Processor,
  ProcessorContext,
  ProcessorSupplier,
  Punctuator,
  PunctuationType,
} from './topology/processor.js';
export type { Headers, KeyValuePair, RecordMetadata, StreamRecord } from './topology/record.js';
export { Serdes } from './topology/serdes/serdes.js';
export { SerdeError, type KeyValueSerdes, type Serde } from './topology/serdes/serde.js';
export type { SchemaValidator } from './topology/serdes/json-serde.js';
export { Topology, type TopologyTopics } from './topology/topology.js';
export type {
  DescribedGlobalStore,
  DescribedNode,
  DescribedSubTopology,
  TopologyDescription,
  TopologyDescriptionJson,
} from './topology/topology-description.js';
export { resolveTopic } from './topology/topology-spec.js';
export type {
  ExternalSinkNodeSpec,
  GlobalStoreSpec,
  NodeSpec,
  ProcessorNodeSpec,
  SourceNodeSpec,
  StoreSpec,
  SubTopologySpec,
  TopicSinkNodeSpec,
} from './topology/topology-spec.js';
export { TopologyError } from './topology/topology-error.js';

// --- runtime: task execution and the test driver ---
export { StreamTask, type StreamTaskOptions } from './runtime/stream-task.js';
export { GlobalStateStore } from './runtime/global-state-store.js';
export type { RecordCollector, OutgoingRecord } from './runtime/record-collector.js';
export type { RawRecord } from './runtime/raw-record.js';
export { ManualClock, systemClock, type Clock } from './runtime/clock.js';
export { murmur2, partitionForKey, toPositive } from './runtime/partitioner.js';
export { DeserializationError } from './runtime/deserialization-error.js';
export { TopologyTestDriver, type TopologyTestDriverOptions } from './runtime/topology-test-driver.js';
export type { TestInputTopic, TestOutputTopic, TestRecord } from './runtime/test-topics.js';
export { ConfigError, PrerequisiteError, ServiceUnavailableError, VotestreamError } from './runtime/errors.js';

// --- statestores ---
export * from './statestores/index.js';

// --- sinks ---
export type { Sink, SinkProgress, SinkRecord, SinkSupplier, SinkTaskInfo } from './sinks/sink.js';
export { RedisCountSink, type RedisCountLayout, type RedisCountPublish, type RedisCountSinkOptions } from './sinks/redis-count-sink.js';
export { DynamoChainSink, type DynamoChainSinkOptions } from './sinks/dynamo-chain-sink.js';
export type { ChainLayout } from './sinks/chain-items.js';
export { InfrastructureError, SinkStateLostError } from './runtime/errors.js';

// --- runtime on Kafka ---
export { StreamsApp, CoPartitioningError, type StreamsAppOptions, type StreamsAppState } from './runtime/streams-app.js';
export {
  parseStreamsConfig,
  PROCESSING_GUARANTEES,
  type ProcessingExceptionHandler,
  type ProcessingGuarantee,
  type StreamsConfig,
  type StreamsConfigInput,
} from './runtime/streams-config.js';
export type { KafkaDriver } from './runtime/kafka/driver.js';
export { PlatformaticKafkaDriver } from './runtime/kafka/platformatic-driver.js';
export { FencedError, TransactionError, KafkaDriverError } from './runtime/kafka/errors.js';
export { rebuildStore, type PartitionRebuild, type RebuildStoreOptions } from './runtime/rebuild-store.js';

// --- voting: the application ---
export { VoteCountSink, type VoteCountSinkOptions } from './voting/count-sink.js';
export { DynamoVoteSink, type DynamoVoteSinkOptions } from './voting/vote-log-sink.js';
export { votingTopology, votingApplicationId, VOTING_ROLES, type VotingRole, type VotingTopologyOptions } from './voting/topology.js';
