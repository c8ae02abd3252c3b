/** Topic, group and offset administration over a FakeCluster, as platformatic/admin.ts. */
import type { EnsureTopicsResult, IsolationLevel, KafkaAdmin, TopicPartitionOffset, TopicRequirement } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { TopicMismatchError } from '../topic-admin.js';
import { FakeClient } from './fake-client.js';
import { compareTp } from './fake-groups.js';

/** Use FakeKafkaDriver.createAdmin. */
export class FakeAdmin extends FakeClient implements KafkaAdmin {
  #enter(): Promise<void> {
    return this.enter('admin');
  }

  /** As topic-admin.ts: creates the missing topics, and refuses existing ones whose partition count differs (co-partitioning depends on it). */
  async ensureTopics(topics: readonly TopicRequirement[]): Promise<EnsureTopicsResult> {
    await this.#enter();
    const cluster = this.cluster;
    const present = topics.filter((t) => cluster.partitionCount(t.name) !== undefined);
    const wrong = present.filter((t) => cluster.partitionCount(t.name) !== t.partitions);
    if (wrong.length > 0) {
      const list = wrong.map((t) => `${t.name} has ${cluster.partitionCount(t.name)} partitions, expected ${t.partitions}`);
      throw new TopicMismatchError(`existing topics do not match:\n  - ${list.join('\n  - ')}`);
    }
    const missing = topics.filter((t) => cluster.partitionCount(t.name) === undefined);
    for (const t of missing) cluster.createTopic(t.name, t.partitions);
    return { created: missing.map((t) => t.name), found: present.map((t) => t.name) };
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.#enter();
    for (const t of topics) this.cluster.deleteTopic(t);
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await this.#enter();
    for (const g of groupIds) this.cluster.deleteGroup(g);
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    await this.#enter();
    const out = new Map<string, number>();
    for (const t of topics) {
      const n = this.cluster.partitionCount(t);
      if (n === undefined) throw new KafkaDriverError(`topic ${t} does not exist`);
      out.set(t, n);
    }
    return out;
  }

  async endOffsets(topics: readonly string[], isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    await this.#enter();
    const cluster = this.cluster;
    return topics.flatMap((t) => cluster.partitions(t).map((tp) => ({ ...tp, offset: cluster.log(tp).end(isolation) }))).sort(compareTp);
  }

  async beginningOffsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    await this.#enter();
    const cluster = this.cluster;
    return topics.flatMap((t) => cluster.partitions(t).map((tp) => ({ ...tp, offset: cluster.log(tp).logStart }))).sort(compareTp);
  }

  /** require_stable, as the real admin: waits while a transaction holds offsets of the group (not without KIP-447). */
  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicPartitionOffset[]> {
    await this.#enter();
    const cluster = this.cluster;
    const partitions = topics === undefined ? cluster.groupView(groupId).committed.map(({ topic, partition }) => ({ topic, partition })) : topics.flatMap((t) => cluster.partitions(t));
    const found = await cluster.stableCommitted(groupId, partitions, this.kip447);
    return partitions.flatMap((tp) => {
      const offset = found.get(`${tp.topic}:${tp.partition}`);
      return offset === undefined ? [] : [{ ...tp, offset }];
    }).sort(compareTp);
  }
}
