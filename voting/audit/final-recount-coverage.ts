/**
 * One step of the final recount's coverage proof (final-recount-scheduler.ts): has a consumer
 * group consumed every record of a topic below a set of end offsets taken at one moment?
 *
 * "committed >= end offset" is not the test. Under read_committed the end offset (the LSO) lies
 * past the commit marker of the last transaction, and a group commits the offset after the last
 * RECORD it read (runtime/stream-thread.ts: `r.offset + 1`), never past a marker it was not
 * handed. A sink group that has persisted everything therefore sits one marker (or an aborted
 * tail) below the end for good. So, per partition behind its end, the records between the group's
 * committed offset and the end are read once (read_committed, as the group reads them) to find the
 * offset after the last one: that is what the group must reach. Reading happens once per step and
 * only for the partitions behind; afterwards each check is one committed-offsets request.
 */
import type { KafkaAdmin, KafkaDriver, StartOffset, TopicPartitionOffset } from '../../runtime/kafka/driver.js';

/** A partition the group has not covered yet: where it is and where it must get to. */
export interface PartitionBehind {
  readonly partition: number;
  /** The group's committed offset; null when it has none. */
  readonly committed: bigint | null;
  /** The offset after the last record below the end the step took. */
  readonly needed: bigint;
}

export interface CoverageCheck {
  readonly covered: boolean;
  readonly behind: readonly PartitionBehind[];
}

export interface GroupCoverageOptions {
  readonly driver: KafkaDriver;
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
}

export class GroupCoverage {
  readonly #o: GroupCoverageOptions;
  /** partition -> the end offset (read_committed) taken when the step began. */
  readonly #ends: ReadonlyMap<number, bigint>;
  /** partition -> the offset the group must have committed; absent until a check needed to read it. */
  readonly #needed = new Map<number, bigint>();

  private constructor(o: GroupCoverageOptions, ends: ReadonlyMap<number, bigint>) {
    this.#o = o;
    this.#ends = ends;
  }

  /** Takes the read_committed end offsets of every partition of the topic now. */
  static async begin(o: GroupCoverageOptions): Promise<GroupCoverage> {
    const admin = o.driver.createAdmin({ clientId: o.clientId });
    try {
      const ends = await admin.endOffsets([o.topic], 'read_committed');
      return new GroupCoverage(o, new Map(ends.map((e) => [e.partition, e.offset])));
    } finally {
      await admin.close();
    }
  }

  /** The end offsets this step waits for, partition -> offset. */
  get ends(): ReadonlyMap<number, bigint> {
    return this.#ends;
  }

  /** One look at the group's committed offsets (require_stable: pending transactional commits are waited for). */
  async check(): Promise<CoverageCheck> {
    const admin: KafkaAdmin = this.#o.driver.createAdmin({ clientId: this.#o.clientId });
    let committed: Map<number, bigint>;
    try {
      committed = byPartition(await admin.committedOffsets(this.#o.groupId, [this.#o.topic]));
    } finally {
      await admin.close();
    }
    const unread = [...this.#ends].filter(([p, end]) => !this.#needed.has(p) && (committed.get(p) ?? -1n) < end).map(([p]) => p);
    if (unread.length > 0) await this.#findLastRecords(unread, committed);
    const behind: PartitionBehind[] = [];
    for (const [partition, end] of this.#ends) {
      const at = committed.get(partition);
      if (at !== undefined && at >= end) continue;
      const needed = this.#needed.get(partition)!;
      if (needed === 0n || (at !== undefined && at >= needed)) continue;
      behind.push({ partition, committed: at ?? null, needed });
    }
    return { covered: behind.length === 0, behind };
  }

  /** For each partition, reads from the group's committed offset (or the log start) to the step's end. */
  async #findLastRecords(partitions: readonly number[], committed: ReadonlyMap<number, bigint>): Promise<void> {
    const topic = this.#o.topic;
    const starts = new Map(partitions.map((p) => [p, committed.get(p)]));
    const reader = await this.#o.driver.createReader({
      partitions: partitions.map((partition) => ({ topic, partition, from: (starts.get(partition) ?? 'earliest') as StartOffset })),
      isolation: 'read_committed',
      clientId: this.#o.clientId,
    });
    const last = new Map<number, bigint>();
    try {
      await reader.readToEnd((records) => {
        for (const r of records) if (r.offset < this.#ends.get(r.partition)! && r.offset >= (last.get(r.partition) ?? -1n)) last.set(r.partition, r.offset);
      });
    } finally {
      await reader.close();
    }
    // No record from the group's offset on: everything below that offset was consumed already.
    for (const p of partitions) this.#needed.set(p, last.has(p) ? last.get(p)! + 1n : (starts.get(p) ?? 0n));
  }
}

function byPartition(offsets: readonly TopicPartitionOffset[]): Map<number, bigint> {
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

/** `p3 12/40, p7 none/5`: where each partition is and where it must get to, for logs and status. */
export function describeBehind(behind: readonly PartitionBehind[]): string {
  return behind.map((b) => `p${b.partition} ${b.committed ?? 'none'}/${b.needed}`).join(', ');
}
