/** The in-memory KafkaDriver for tests (the `votestream/testing` entry). */
export { FakeKafkaDriver, type FakeKafkaDriverOptions } from './fake-kafka-driver.js';
export { FakeCluster, type ClusterEvent, type FakeClusterOptions, type UntilOptions } from './fake-cluster.js';
export { Faults, type FaultContext, type FaultOp, type FaultScope, type Gate } from './fake-faults.js';
export type { AssignmentPlan, GroupView } from './fake-groups.js';
export type { LogEntry } from './fake-log.js';
export { FakeClient, type FakeClientContext } from './fake-client.js';
export { FakeGroupConsumer } from './fake-group-consumer.js';
export { FakeTransactionalProducer } from './fake-transactional-producer.js';
export { FakeProducer } from './fake-producer.js';
export { FakeReader } from './fake-reader.js';
export { FakeAdmin } from './fake-admin.js';
