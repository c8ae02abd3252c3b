/**
 * Pure part of the Redis count sink: turning a batch of records into per-group field deltas, one
 * segment per (group, partition), and dropping what a known fence already covers.
 *
 * A segment carries its offset range [minOffset, maxOffset]. The fence of (group, partition) is the
 * highest input offset of that group already applied; because each offset is one record and the
 * fence only grows, "apply exactly the records with offset > fence" is the correct rule for any way
 * a replay cuts the stream into batches. The Lua script can check that rule on a pre-aggregated
 * segment only when the fence is entirely below it (apply all) or at/above its top (skip all); a
 * fence inside the range is sent back, and the client re-aggregates with `filterAboveFence` and
 * tries again (see redis-count-script.ts).
 */
import type { SinkRecord } from './sink.js';
import { VotestreamError } from '../runtime/errors.js';

/** One increment a record makes: `by` added to `field` of the group's hash named `hash`. */
export interface FieldIncrement {
  readonly hash: string;
  readonly field: string;
  readonly by: number;
}

/** What the application says about its records: how they group and what each one increments. */
export interface DeltaLayout<K, V> {
  /** Logical names of each group's hashes; their order is the order of `CountSegment.fields`. */
  readonly hashes: readonly string[];
  /** The group a record belongs to: its hashes and fences are updated together in one script. */
  group(record: SinkRecord<K, V>): string;
  /** The record's increments (its hashes must be among `hashes`). */
  increments(record: SinkRecord<K, V>): Iterable<FieldIncrement>;
}

/** Deltas of one (group, partition) within one batch. */
export interface CountSegment {
  readonly partition: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** Records in the segment (what a record-count field grows by if applied). */
  readonly records: number;
  /** Per hash of the layout, in its order: field -> delta. */
  readonly fields: readonly ReadonlyMap<string, number>[];
}

/** One group's share of a batch: its records (kept for re-aggregation) and their segments. */
export interface GroupDeltas<K, V> {
  readonly group: string;
  readonly records: readonly SinkRecord<K, V>[];
  /** Ascending partition order. */
  readonly segments: readonly CountSegment[];
}

/** A record the sink cannot fence: forwarded from a punctuator (offset -1) or otherwise bad. */
export class UnfenceableRecordError extends VotestreamError {
  constructor(message: string) {
    super('SINK_UNFENCEABLE', message);
  }
}

function checkRecord(record: SinkRecord<unknown, unknown>): void {
  if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
    throw new UnfenceableRecordError(`record at ${record.topic}[${record.partition}] has offset ${record.offset}; counting it could not be made exactly-once`);
  }
  if (!Number.isSafeInteger(record.partition) || record.partition < 0) {
    throw new UnfenceableRecordError(`record has partition ${record.partition}`);
  }
}

function add(map: Map<string, number>, field: string, n: number): void {
  map.set(field, (map.get(field) ?? 0) + n);
}

/** Aggregates one group's records (any partitions, any order) into per-partition segments. */
export function segmentsOf<K, V>(layout: DeltaLayout<K, V>, records: readonly SinkRecord<K, V>[]): CountSegment[] {
  interface Acc {
    minOffset: number;
    maxOffset: number;
    records: number;
    fields: Map<string, number>[];
  }
  const hashIndex = new Map(layout.hashes.map((h, i) => [h, i]));
  const byPartition = new Map<number, Acc>();
  for (const record of records) {
    checkRecord(record);
    let acc = byPartition.get(record.partition);
    if (acc === undefined) {
      acc = { minOffset: record.offset, maxOffset: record.offset, records: 0, fields: layout.hashes.map(() => new Map()) };
      byPartition.set(record.partition, acc);
    }
    acc.minOffset = Math.min(acc.minOffset, record.offset);
    acc.maxOffset = Math.max(acc.maxOffset, record.offset);
    acc.records++;
    for (const { hash, field, by } of layout.increments(record)) {
      const h = hashIndex.get(hash);
      if (h === undefined) throw new TypeError(`increment of hash ${JSON.stringify(hash)}, not one of the layout's ${JSON.stringify(layout.hashes)}`);
      // The script must not fail after its first write (it would not be all-or-nothing): HINCRBY
      // refuses anything but an integer, so that is checked here.
      if (!Number.isSafeInteger(by)) throw new TypeError(`increment of ${hash}.${field} by ${by}, not a safe integer`);
      add(acc.fields[h], field, by);
    }
  }
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([partition, acc]) => ({ partition, ...acc }));
}

/** Splits a batch by group (first-seen order) and aggregates each. */
export function aggregateDeltas<K, V>(layout: DeltaLayout<K, V>, batch: readonly SinkRecord<K, V>[]): GroupDeltas<K, V>[] {
  const byGroup = new Map<string, SinkRecord<K, V>[]>();
  for (const record of batch) {
    const group = layout.group(record);
    let list = byGroup.get(group);
    if (list === undefined) byGroup.set(group, (list = []));
    list.push(record);
  }
  return [...byGroup.entries()].map(([group, records]) => ({ group, records, segments: segmentsOf(layout, records) }));
}

/**
 * Keeps the records above their partition's fence (`fences`: partition -> fence; a partition not in
 * the map keeps everything) and re-aggregates. Returns the kept deltas and how many were dropped.
 */
export function filterAboveFence<K, V>(
  layout: DeltaLayout<K, V>,
  deltas: GroupDeltas<K, V>,
  fences: ReadonlyMap<number, number>,
): { deltas: GroupDeltas<K, V>; dropped: number } {
  const kept = deltas.records.filter((r) => {
    const fence = fences.get(r.partition);
    return fence === undefined || r.offset > fence;
  });
  return {
    deltas: { group: deltas.group, records: kept, segments: segmentsOf(layout, kept) },
    dropped: deltas.records.length - kept.length,
  };
}
