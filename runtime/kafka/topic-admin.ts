import { Admin } from '@platformatic/kafka';
import { VotestreamError } from '../errors.js';
import { replicationFor } from './replication.js';

export interface TopicRequirement {
  readonly name: string;
  readonly partitions: number;
  /**
   * Omitted: the cluster's rule (replication.ts), from the brokers that answer when the topic is
   * created, which also sets min.insync.replicas unless `configs` does.
   */
  readonly replicationFactor?: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface EnsureTopicsResult {
  readonly created: string[];
  readonly found: string[];
}

export class TopicMismatchError extends VotestreamError {
  constructor(message: string) {
    super('TOPIC_MISMATCH', message);
  }
}

/**
 * Creates the topics that are missing; leaves existing ones alone but refuses a partition count
 * that differs from the requirement, since co-partitioning (DESIGN section 3) depends on it.
 */
export async function ensureTopics(brokers: string, topics: readonly TopicRequirement[], clientId = 'votestream-admin'): Promise<EnsureTopicsResult> {
  const admin = new Admin({ clientId, bootstrapBrokers: brokers.split(','), timeout: 15_000 });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const md = await admin.metadata({ topics: present.map((t) => t.name), forceUpdate: true });
      const wrong = present.filter((t) => md.topics.get(t.name)?.partitionsCount !== t.partitions);
      if (wrong.length > 0) {
        const list = wrong.map((t) => `${t.name} has ${md.topics.get(t.name)?.partitionsCount} partitions, expected ${t.partitions}`);
        throw new TopicMismatchError(`existing topics do not match:\n  - ${list.join('\n  - ')}`);
      }
    }
    const rule = missing.some((t) => t.replicationFactor === undefined) ? replicationFor((await admin.metadata({ topics: [], forceUpdate: true })).brokers.size) : undefined;
    for (const t of missing) {
      const configs = rule !== undefined && t.replicationFactor === undefined ? { 'min.insync.replicas': String(rule.minInsyncReplicas), ...t.configs } : t.configs;
      try {
        await admin.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          replicas: t.replicationFactor ?? rule?.replicationFactor ?? 1,
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        });
      } catch (err) {
        // Another process may have created it between listTopics and here: that is success.
        if (!(await admin.listTopics()).includes(t.name)) throw err;
      }
    }
    return { created: missing.map((t) => t.name), found: present.map((t) => t.name) };
  } finally {
    await admin.close();
  }
}
