/**
 * ListOffsets with an isolation level, and committed offsets. kafkajs 2.2.4 has no public API for the
 * first: its Admin's cluster is created without an isolation level, so `fetchTopicOffsets` only ever gives
 * the last stable offset (ListOffsets defaults to read_committed), and consumers expose no offsets API.
 * This reaches the Kafka instance's private cluster factory (symbol 'private:Kafka:createCluster') to
 * make a cluster with the isolation level asked for.
 *
 * Committed offsets: kafkajs' OffsetFetch (v1..v4) has no require_stable (KIP-447), so an offset commit
 * still pending in an open transaction is not waited for: the previous committed offset is returned.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { IsolationLevel, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { groupByTopic, sortTps, tpKey } from '../platformatic/helpers.js';
import { describeKafkajs } from './error-mapping.js';

/** The part of kafkajs' internal Cluster used here. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  fetchTopicsOffset(
    topics: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

type ClusterFactory = (options: { metadataMaxAge?: number; allowAutoTopicCreation?: boolean; isolationLevel?: number }) => KafkajsCluster;

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

function clusterFactory(kafka: Kafka): ClusterFactory {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof factory !== 'function') throw new KafkaDriverError('kafkajs internals changed: no cluster factory (checked against 2.2.4)');
  return factory as ClusterFactory;
}

/** Log start / end offsets of partitions under an isolation level, over one lazily connected cluster per level. */
export class OffsetLister {
  readonly #kafka: Kafka;
  readonly #clusters = new Map<IsolationLevel, Promise<KafkajsCluster>>();

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  #cluster(isolation: IsolationLevel): Promise<KafkajsCluster> {
    let found = this.#clusters.get(isolation);
    if (!found) {
      const cluster = clusterFactory(this.#kafka)({ allowAutoTopicCreation: false, isolationLevel: isolation === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED });
      found = cluster.connect().then(() => cluster);
      this.#clusters.set(isolation, found);
      found.catch(() => this.#clusters.delete(isolation));
    }
    return found;
  }

  async list(partitions: readonly TopicPartition[], which: 'earliest' | 'latest', isolation: IsolationLevel): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (partitions.length === 0) return out;
    try {
      const cluster = await this.#cluster(isolation);
      const byTopic = groupByTopic(partitions);
      await cluster.addMultipleTargetTopics([...byTopic.keys()]);
      await cluster.refreshMetadata();
      const result = await cluster.fetchTopicsOffset(
        [...byTopic].map(([topic, ps]) => ({ topic, fromBeginning: which === 'earliest', partitions: ps.map((partition) => ({ partition })) })),
      );
      for (const t of result) for (const p of t.partitions) out.set(tpKey({ topic: t.topic, partition: p.partition }), BigInt(p.offset));
    } catch (error) {
      throw new KafkaDriverError(`listing offsets failed: ${describeKafkajs(error)}`, { cause: error });
    }
    return out;
  }

  async close(): Promise<void> {
    const clusters = [...this.#clusters.values()];
    this.#clusters.clear();
    await Promise.allSettled(clusters.map(async (c) => (await c).disconnect()));
  }
}

/** The group's committed offsets of the given partitions (or of every partition of `topics`); only those that have one. */
export async function committedOffsetsOf(admin: Admin, groupId: string, partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
  if (partitions.length === 0) return [];
  const byTopic = groupByTopic(partitions);
  let result: Awaited<ReturnType<Admin['fetchOffsets']>>;
  try {
    result = await admin.fetchOffsets({ groupId, topics: [...byTopic.keys()] });
  } catch (error) {
    throw new KafkaDriverError(`fetching committed offsets of group ${groupId} failed: ${describeKafkajs(error)}`, { cause: error });
  }
  const wanted = new Set(partitions.map(tpKey));
  const out: TopicPartitionOffset[] = [];
  for (const t of result) {
    for (const p of t.partitions) {
      const offset = BigInt(p.offset);
      if (offset >= 0n && wanted.has(tpKey({ topic: t.topic, partition: p.partition }))) out.push({ topic: t.topic, partition: p.partition, offset });
    }
  }
  return sortTps(out);
}
