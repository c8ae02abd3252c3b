/**
 * The group coordinator's state for one consumer group: members, the generation, each member's
 * assignment and the committed offsets. A membership change (join, leave, removal) or an explicit
 * rebalance completes at once here; each member learns of it at its next poll(), as with the real
 * driver whose client rejoins in the background. Until then that member still works on its old
 * assignment with its old generation, which is exactly the zombie that KIP-447 fencing rejects.
 */
import type { TopicPartition, TopicPartitionOffset } from '../driver.js';

export interface FakeMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly string[];
  /** This generation's assignment (sorted). */
  assignment: TopicPartition[];
}

/** An explicit assignment for `FakeCluster.rebalance`: member id to partitions. Members left out get nothing. */
export type AssignmentPlan = Readonly<Record<string, readonly TopicPartition[]>>;

export interface GroupView {
  readonly groupId: string;
  readonly generation: number;
  /** In join order. */
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly clientId: string; readonly assignment: readonly TopicPartition[] }>;
  readonly committed: readonly TopicPartitionOffset[];
}

export const tpKey = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`;

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

export class FakeGroup {
  readonly groupId: string;
  generation = 0;
  /** Insertion order is join order: the assignor's member order. */
  readonly members = new Map<string, FakeMember>();
  readonly committed = new Map<string, TopicPartitionOffset>();
  #seq = 0;

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  newMemberId(clientId: string): string {
    return `${clientId}-${this.groupId}-${++this.#seq}`;
  }

  /**
   * A new generation: every member gets the plan's partitions, or the range assignor's (per topic,
   * members subscribed to it in join order get contiguous ranges, the first ones one more when it
   * does not divide). Range keeps co-partitioned topics together: a member gets the same partition
   * numbers of every topic it reads, which the runtime's one-task-per-partition needs.
   */
  rebalance(partitionCount: (topic: string) => number | undefined, plan?: AssignmentPlan): number {
    this.generation++;
    const members = [...this.members.values()];
    for (const m of members) m.assignment = [];
    if (plan !== undefined) {
      for (const m of members) m.assignment = [...(plan[m.memberId] ?? [])].sort(compareTp);
      return this.generation;
    }
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const n = partitionCount(topic);
      if (n === undefined) continue;
      const subscribed = members.filter((m) => m.topics.includes(topic));
      const per = Math.floor(n / subscribed.length);
      const extra = n % subscribed.length;
      let next = 0;
      subscribed.forEach((m, i) => {
        const count = per + (i < extra ? 1 : 0);
        for (let k = 0; k < count; k++) m.assignment.push({ topic, partition: next++ });
      });
    }
    for (const m of members) m.assignment.sort(compareTp);
    return this.generation;
  }

  view(): GroupView {
    return {
      groupId: this.groupId,
      generation: this.generation,
      members: [...this.members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, assignment: [...m.assignment] })),
      committed: [...this.committed.values()].sort(compareTp),
    };
  }
}
