/**
 * Deterministic streams of `votes-accepted` records for the sink tests and the model they are
 * checked against. Offsets are those of `votes-accepted`: per partition, consecutive, starting at
 * a partition-dependent base, with the elections interleaved (so one election's offsets have gaps).
 */
import type { SinkRecord } from '../../../sinks/sink.js';
import type { AcceptedVote } from '../../../voting/vote.js';

export type VoteRecord = SinkRecord<string, AcceptedVote>;

export interface StreamSpec {
  readonly elections: readonly string[];
  readonly partitions: number;
  /** Records per partition. */
  readonly perPartition: number;
  readonly candidates?: readonly string[];
  readonly regions?: readonly string[];
  readonly seed?: number;
  readonly topic?: string;
}

/** Small LCG: the same spec gives the same stream on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function uuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '8';
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The records of each partition, in offset order: `result[p]`. */
export function voteStream(spec: StreamSpec): VoteRecord[][] {
  const rand = lcg(spec.seed ?? 42);
  const candidates = spec.candidates ?? ['c1', 'c2', 'c3', 'c4'];
  const regions = spec.regions ?? ['SP', 'RJ', 'MG'];
  const out: VoteRecord[][] = [];
  let voter = 0;
  for (let p = 0; p < spec.partitions; p++) {
    const base = 1000 + p * 37;
    const records: VoteRecord[] = [];
    for (let i = 0; i < spec.perPartition; i++) {
      const electionId = spec.elections[Math.floor(rand() * spec.elections.length)];
      const r = Math.floor(rand() * (regions.length + 1));
      const vote: AcceptedVote = {
        voteId: uuid(rand),
        electionId,
        voterId: `u${voter++}`,
        candidateId: candidates[Math.floor(rand() * candidates.length)],
        ...(r < regions.length ? { region: regions[r] } : {}),
        ts: 1763800000000 + voter,
        source: { partition: p, offset: 50_000 + p * 1_000 + i * 2 },
      };
      records.push({ topic: spec.topic ?? 'votes-accepted', partition: p, offset: base + i, timestamp: vote.ts, key: vote.voterId, value: vote, headers: {} });
    }
    out.push(records);
  }
  return out;
}

/** Cuts one partition's records into batches of the given sizes (the last size repeats). */
export function cut<T>(records: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let i = 0;
  for (let b = 0; i < records.length; b++) {
    const size = sizes[Math.min(b, sizes.length - 1)];
    batches.push(records.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** Interleaves the partitions round-robin, as one consumer of several partitions would see them. */
export function interleave<T>(perPartition: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...perPartition.map((r) => r.length));
  for (let i = 0; i < longest; i++) for (const records of perPartition) if (i < records.length) out.push(records[i]);
  return out;
}

export interface ElectionModel {
  counts: Record<string, string>;
  regions: Record<string, string>;
  offsets: Record<string, string>;
}

/** What Redis must hold for each election after `records` were applied exactly once (HGETALL shape). */
export function countModel(records: readonly VoteRecord[]): Map<string, ElectionModel> {
  const models = new Map<string, { counts: Map<string, number>; regions: Map<string, number>; offsets: Map<string, number> }>();
  for (const r of records) {
    const v = r.value;
    let m = models.get(v.electionId);
    if (!m) models.set(v.electionId, (m = { counts: new Map(), regions: new Map(), offsets: new Map() }));
    m.counts.set(v.candidateId, (m.counts.get(v.candidateId) ?? 0) + 1);
    m.counts.set('_total', (m.counts.get('_total') ?? 0) + 1);
    if (v.region !== undefined) m.regions.set(`${v.region}:${v.candidateId}`, (m.regions.get(`${v.region}:${v.candidateId}`) ?? 0) + 1);
    m.offsets.set(String(r.partition), Math.max(m.offsets.get(String(r.partition)) ?? -1, r.offset));
  }
  const str = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, n]) => [k, String(n)]));
  return new Map([...models].map(([e, m]) => [e, { counts: str(m.counts), regions: str(m.regions), offsets: str(m.offsets) }]));
}
