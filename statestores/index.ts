export type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';
export type { CommitMeta, CommittableKeyValueStore } from './committable-store.js';
export {
  StoreArgumentError,
  StoreCommitProtocolError,
  StoreCorruptionError,
  StoreNotOpenError,
  StoreOpenError,
  StoreWriteError,
} from './errors.js';
export { compareKeys } from './key-order.js';
export { bufferCodec, jsonCodec, utf8Codec, type ValueCodec } from './value-codec.js';
export { InMemoryKeyValueStore } from './in-memory-store.js';
export { DEFAULT_LEVELDB_OPTIONS, LevelDbKeyValueStore, type LevelDbStoreOptions } from './leveldb-store.js';
export { WriteBufferStore, type PendingWrites } from './write-buffer.js';
export {
  ChangeLoggingKeyValueStore,
  changelogTopicName,
  type ChangelogRecord,
  type ChangelogSink,
} from './changelogging-store.js';
export { ChangelogCollector } from './changelog-collector.js';
export { MeteredKeyValueStore, type MeteredOperation } from './metered-store.js';
export { createTaskStore, type RestoreRecord, type TaskStore, type TaskStoreOptions } from './store-stack.js';
export { diffStores, storeDigest, type StoreDiff, type StoreDifference, type StoreDigest } from './digest.js';
