// The public API of the votestream framework (the package's `.` entry). Each area keeps its exports
// in its own block. Test helpers are in `votestream/testing` (testing.ts), the voting application in
// `votestream/voting` (voting/index.ts); store layers, tasks and the runtime's internals stay inside.

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
  JoinedOptions,
  MaterializedOptions,
  Named,
  PrintedOptions,
  RepartitionedOptions,
  SinkTopicOptions,
  SourceOptions,
  StoreOptions,
  TableOptions,
  TopicNameExtractor,
  TopicNameExtractorContext,
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
export { TopologyError } from './topology/topology-error.js';

// --- runtime: the pieces a topology's user meets (the test driver is in `votestream/testing`) ---
export { systemClock, type Clock } from './runtime/clock.js';
export { murmur2, partitionForKey, toPositive } from './runtime/partitioner.js';
export { DeserializationError } from './runtime/deserialization-error.js';
export { ConfigError, PrerequisiteError, ServiceUnavailableError, VotestreamError } from './runtime/errors.js';
export { ERROR_CODES, isErrorCode, type ErrorCode } from './statestores/error-codes.js';
export { ProcessingFailedError } from './runtime/processing-failed-error.js';
export type { RecordContext } from './runtime/record-context.js';

// --- statestores: the interface a processor's store has, and its errors (the layers stay inside) ---
export type { KeyValue, KeyValueStore, RangeOptions } from './statestores/key-value-store.js';
export {
  StoreArgumentError,
  StoreCommitProtocolError,
  StoreCorruptionError,
  StoreNotOpenError,
  StoreOpenError,
  StoreWriteError,
} from './statestores/errors.js';

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
export { KafkajsDriver } from './runtime/kafka/kafkajs-driver.js';
export { createKafkaDriver, KAFKA_DRIVERS, type KafkaDriverName } from './runtime/kafka/create-driver.js';
export { FencedError, TransactionError, KafkaDriverError } from './runtime/kafka/errors.js';
export { rebuildStore, type PartitionRebuild, type RebuildStoreOptions } from './runtime/rebuild-store.js';
