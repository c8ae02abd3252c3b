/**
 * Pure part of the Redis count sink: turning a batch of accepted votes into per-election count
 * deltas, one segment per (election, partition), and dropping what a known fence already covers.
 *
 * A segment carries its offset range [minOffset, maxOffset]. The fence of (election, partition) is
 * the highest `votes-accepted` offset of that election already counted; because each offset is one
 * record and the fence only grows, "apply exactly the records with offset > fence" is the correct
 * rule for any way a replay cuts the stream into batches. The Lua script can check that rule on a
 * pre-aggregated segment only when the fence is entirely below it (apply all) or at/above its top
 * (skip all); a fence inside the range is sent back, and the client re-aggregates with
 * `filterAboveFence` and tries again (see redis-count-script.ts).
 */
import type { AcceptedVote } from '../voting/vote.js';
import { regionField } from '../voting/redis-keys.js';
import type { SinkRecord } from './sink.js';
import { VotestreamError } from '../runtime/errors.js';

/** Deltas of one (election, partition) within one batch. */
export interface CountSegment {
  readonly partition: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** Votes in the segment (= the `_total` delta if applied). */
  readonly votes: number;
  /** candidateId -> delta. */
  readonly counts: ReadonlyMap<string, number>;
  /** `region:candidateId` -> delta (votes without a region only count in `counts`). */
  readonly regions: ReadonlyMap<string, number>;
}

/** One election's share of a batch: its records (kept for re-aggregation) and their segments. */
export interface ElectionDeltas {
  readonly electionId: string;
  readonly records: readonly SinkRecord<string, AcceptedVote>[];
  /** Ascending partition order. */
  readonly segments: readonly CountSegment[];
}

/** A record the sink cannot fence: forwarded from a punctuator (offset -1) or otherwise bad. */
export class UnfenceableRecordError extends VotestreamError {
  constructor(message: string) {
    super('SINK_UNFENCEABLE', message);
  }
}

function checkRecord(record: SinkRecord<string, AcceptedVote>): void {
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

/** Aggregates one election's records (any partitions, any order) into per-partition segments. */
export function segmentsOf(records: readonly SinkRecord<string, AcceptedVote>[]): CountSegment[] {
  interface Acc {
    minOffset: number;
    maxOffset: number;
    votes: number;
    counts: Map<string, number>;
    regions: Map<string, number>;
  }
  const byPartition = new Map<number, Acc>();
  for (const record of records) {
    checkRecord(record);
    let acc = byPartition.get(record.partition);
    if (acc === undefined) {
      acc = { minOffset: record.offset, maxOffset: record.offset, votes: 0, counts: new Map(), regions: new Map() };
      byPartition.set(record.partition, acc);
    }
    acc.minOffset = Math.min(acc.minOffset, record.offset);
    acc.maxOffset = Math.max(acc.maxOffset, record.offset);
    acc.votes++;
    const vote = record.value;
    add(acc.counts, vote.candidateId, 1);
    if (vote.region !== undefined) add(acc.regions, regionField(vote.region, vote.candidateId), 1);
  }
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([partition, acc]) => ({ partition, ...acc }));
}

/** Splits a batch by election (first-seen order) and aggregates each. */
export function aggregateDeltas(batch: readonly SinkRecord<string, AcceptedVote>[]): ElectionDeltas[] {
  const byElection = new Map<string, SinkRecord<string, AcceptedVote>[]>();
  for (const record of batch) {
    const electionId = record.value.electionId;
    let list = byElection.get(electionId);
    if (list === undefined) byElection.set(electionId, (list = []));
    list.push(record);
  }
  return [...byElection.entries()].map(([electionId, records]) => ({ electionId, records, segments: segmentsOf(records) }));
}

/**
 * Keeps the records above their partition's fence (`fences`: partition -> fence; a partition not in
 * the map keeps everything) and re-aggregates. Returns the kept deltas and how many were dropped.
 */
export function filterAboveFence(deltas: ElectionDeltas, fences: ReadonlyMap<number, number>): { deltas: ElectionDeltas; dropped: number } {
  const kept = deltas.records.filter((r) => {
    const fence = fences.get(r.partition);
    return fence === undefined || r.offset > fence;
  });
  return {
    deltas: { electionId: deltas.electionId, records: kept, segments: segmentsOf(kept) },
    dropped: deltas.records.length - kept.length,
  };
}
