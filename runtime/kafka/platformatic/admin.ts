/** Topic, group and offset administration. */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, type ClusterMetadata } from '@platformatic/kafka';
import type { IsolationLevel, KafkaAdmin, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { ensureTopics, type EnsureTopicsResult, type TopicRequirement } from '../topic-admin.js';
import { describe } from './error-mapping.js';
import { EARLIEST, LATEST, sortTps, tpKey } from './helpers.js';
import { committedOffsets, listOffsetsFor } from './offsets.js';

export class PlatformaticAdmin implements KafkaAdmin {
  readonly #brokers: string[];
  readonly #clientId: string;
  readonly #client: Admin;
  /** ListOffsets with an isolation level is a Consumer API in this library; a group-less consumer serves it. */
  #offsetsClient: Consumer | null = null;

  constructor(brokers: string[], clientId: string) {
    this.#brokers = brokers;
    this.#clientId = clientId;
    this.#client = new Admin({ clientId, bootstrapBrokers: brokers, timeout: 15_000, retries: 5, retryDelay: 250 });
  }

  ensureTopics(topics: readonly TopicRequirement[]): Promise<EnsureTopicsResult> {
    return ensureTopics(this.#brokers.join(','), topics, this.#clientId);
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      await this.#client.deleteTopics({ topics: [...topics] });
    } catch (error) {
      throw new KafkaDriverError(`deleting topics failed: ${describe(error)}`, { cause: error });
    }
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return;
    try {
      await this.#client.deleteGroups({ groups: [...groupIds] });
    } catch (error) {
      throw new KafkaDriverError(`deleting groups failed: ${describe(error)}`, { cause: error });
    }
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    let md: ClusterMetadata;
    try {
      md = await this.#client.metadata({ topics: [...topics], forceUpdate: true });
    } catch (error) {
      throw new KafkaDriverError(`metadata for ${topics.join(', ')} failed: ${describe(error)}`, { cause: error });
    }
    const out = new Map<string, number>();
    for (const t of topics) {
      const count = md.topics.get(t)?.partitionsCount;
      if (count === undefined) throw new KafkaDriverError(`topic ${t} does not exist`);
      out.set(t, count);
    }
    return out;
  }

  async #allPartitions(topics: readonly string[]): Promise<TopicPartition[]> {
    const counts = await this.partitionCounts(topics);
    const out: TopicPartition[] = [];
    for (const [topic, n] of counts) for (let partition = 0; partition < n; partition++) out.push({ topic, partition });
    return sortTps(out);
  }

  async #listOffsets(topics: readonly string[], timestamp: bigint, isolation: IsolationLevel): Promise<TopicPartitionOffset[]> {
    const partitions = await this.#allPartitions(topics);
    this.#offsetsClient ??= new Consumer({
      clientId: `${this.#clientId}-offsets`,
      bootstrapBrokers: this.#brokers,
      groupId: `${this.#clientId}-unused-${randomUUID()}`,
      autocommit: false,
      timeout: 15_000,
      retryDelay: 250,
    });
    try {
      const offsets = await listOffsetsFor(this.#offsetsClient, partitions, timestamp, isolation);
      return partitions.map((tp) => ({ ...tp, offset: offsets.get(tpKey(tp)) as bigint }));
    } catch (error) {
      if (error instanceof KafkaDriverError) throw error;
      throw new KafkaDriverError(`listing offsets failed: ${describe(error)}`, { cause: error });
    }
  }

  endOffsets(topics: readonly string[], isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    return this.#listOffsets(topics, LATEST, isolation);
  }

  beginningOffsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    return this.#listOffsets(topics, EARLIEST, 'read_uncommitted');
  }

  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicPartitionOffset[]> {
    const partitions = topics ? await this.#allPartitions(topics) : undefined;
    const found = await committedOffsets(this.#client, groupId, partitions);
    const out: TopicPartitionOffset[] = [];
    for (const [key, offset] of found) {
      const i = key.lastIndexOf(':');
      out.push({ topic: key.slice(0, i), partition: Number(key.slice(i + 1)), offset });
    }
    return sortTps(out);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#offsetsClient?.close()]);
    await this.#client.close();
  }
}
