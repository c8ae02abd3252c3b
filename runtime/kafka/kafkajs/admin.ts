/** Topic, group and offset administration over kafkajs 2.2.4 (offsets: see offsets.ts). */
import type { Admin, Kafka } from 'kafkajs';
import type { IsolationLevel, KafkaAdmin, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { sortTps, tpKey } from '../platformatic/helpers.js';
import { ensureTopics, type EnsureTopicsResult, type TopicRequirement } from '../topic-admin.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeKafkajs, kafkajsErrorIds } from './error-mapping.js';
import { OffsetLister, committedOffsetsOf } from './offsets.js';

/** How long a topic created elsewhere may take to reach the broker kafkajs asks. */
const METADATA_PROPAGATION_MS = 5_000;

export class KafkajsAdmin implements KafkaAdmin {
  readonly #brokers: string;
  readonly #clientId: string;
  readonly #client: Admin;
  readonly #offsets: OffsetLister;
  #connected: Promise<void> | null = null;

  constructor(kafka: Kafka, brokers: string, clientId: string) {
    this.#brokers = brokers;
    this.#clientId = clientId;
    this.#client = kafka.admin();
    this.#offsets = new OffsetLister(kafka);
  }

  /** The admin of the KafkaAdmin interface is created synchronously; kafkajs' connects on first use. */
  async #admin(): Promise<Admin> {
    this.#connected ??= this.#client.connect();
    try {
      await this.#connected;
    } catch (error) {
      this.#connected = null;
      throw new KafkaDriverError(`connecting admin failed: ${describeKafkajs(error)}`, { cause: error });
    }
    return this.#client;
  }

  /** Topic creation is shared with the other driver (topic-admin.ts): same defaults, same checks. */
  ensureTopics(topics: readonly TopicRequirement[]): Promise<EnsureTopicsResult> {
    return ensureTopics(this.#brokers, topics, this.#clientId);
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      await (await this.#admin()).deleteTopics({ topics: [...topics] });
    } catch (error) {
      throw new KafkaDriverError(`deleting topics failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return;
    try {
      await (await this.#admin()).deleteGroups([...groupIds]);
    } catch (error) {
      throw new KafkaDriverError(`deleting groups failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  /**
   * kafkajs asks one broker, which may not have heard yet of a topic another broker created a moment
   * ago (the runtime asks right after creating its internal topics): UNKNOWN_TOPIC_OR_PARTITION is
   * asked again for a few seconds before it means that the topic does not exist.
   */
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const admin = await this.#admin();
    let md: Awaited<ReturnType<Admin['fetchTopicMetadata']>>;
    const deadline = Date.now() + METADATA_PROPAGATION_MS;
    for (;;) {
      try {
        md = await admin.fetchTopicMetadata({ topics: [...topics] });
        break;
      } catch (error) {
        const ids = kafkajsErrorIds(error);
        const propagating = ids.has('UNKNOWN_TOPIC_OR_PARTITION') || ids.has('LEADER_NOT_AVAILABLE');
        if (propagating && Date.now() < deadline) {
          await sleep(100);
          continue;
        }
        throw new KafkaDriverError(`metadata for ${topics.join(', ')} failed: ${describeKafkajs(error)}`, { cause: error });
      }
    }
    const out = new Map<string, number>();
    for (const t of topics) {
      const found = md.topics.find((m) => m.name === t);
      if (!found || found.partitions.length === 0) throw new KafkaDriverError(`topic ${t} does not exist`);
      out.set(t, found.partitions.length);
    }
    return out;
  }

  async #allPartitions(topics: readonly string[]): Promise<TopicPartition[]> {
    const out: TopicPartition[] = [];
    for (const [topic, n] of await this.partitionCounts(topics)) for (let partition = 0; partition < n; partition++) out.push({ topic, partition });
    return sortTps(out);
  }

  async #list(topics: readonly string[], which: 'earliest' | 'latest', isolation: IsolationLevel): Promise<TopicPartitionOffset[]> {
    const partitions = await this.#allPartitions(topics);
    const offsets = await this.#offsets.list(partitions, which, isolation);
    return partitions.map((tp) => ({ ...tp, offset: offsets.get(tpKey(tp)) as bigint }));
  }

  endOffsets(topics: readonly string[], isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    return this.#list(topics, 'latest', isolation);
  }

  beginningOffsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    return this.#list(topics, 'earliest', 'read_uncommitted');
  }

  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicPartitionOffset[]> {
    const admin = await this.#admin();
    if (topics) return committedOffsetsOf(admin, groupId, await this.#allPartitions(topics));
    try {
      const found = await admin.fetchOffsets({ groupId });
      const out: TopicPartitionOffset[] = [];
      for (const t of found) for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.push({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) });
      return sortTps(out);
    } catch (error) {
      throw new KafkaDriverError(`fetching committed offsets of group ${groupId} failed: ${describeKafkajs(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.#offsets.close();
    if (this.#connected) await this.#client.disconnect();
  }
}
