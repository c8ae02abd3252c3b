// `votestream/testing`: run a topology without a broker, as Kafka Streams' kafka-streams-test-utils
// does. The TopologyTestDriver runs the same StreamTask code as the real runtime.
export { TopologyTestDriver, type TopologyTestDriverOptions } from './runtime/topology-test-driver.js';
export type { TestInputTopic, TestOutputTopic, TestRecord } from './runtime/test-topics.js';
export { ManualClock } from './runtime/clock.js';
// An in-memory KafkaDriver (topics, transactions, groups with generations, injectable faults and
// gates), to unit-test a runtime's protocol on the interleavings a real broker will not give on cue.
export * from './runtime/kafka/fake/index.js';
