/**
 * A contender's latency under a steady offered load, after its throughput run: fresh voters
 * produced open-loop at `rate` (each vote's ts and record timestamp are its intended send time),
 * and each vote's arrival seen in `votes-accepted` (read_committed, so only once its transaction
 * committed). Latency runs from the intended send time: no coordinated omission. The same probe
 * runs against every contender, so the figures compare.
 */
import { createHash } from 'node:crypto';
import type * as hdr from 'hdr-histogram-js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Election } from '../../voting/election.js';
import { topicNames } from '../../voting/topics.js';
import type { Vote } from '../../voting/vote.js';
import { voteRecords } from '../bench-input.js';
import { newLatencyHistogram } from '../run/arrival-latency.js';

export interface LatencyProbeOptions {
  readonly driver: KafkaDriver;
  readonly prefix: string;
  readonly partitions: number;
  readonly elections: readonly Election[];
  readonly rate: number;
  readonly seconds: number;
  /** After the last vote was due, how long to wait for the stragglers. */
  readonly graceMs?: number;
}

export interface LatencyProbeResult {
  readonly votes: number;
  readonly histogram: hdr.Histogram;
  /** Votes never seen in votes-accepted within the grace period. */
  readonly missing: number;
  /** `electionId:voterId` -> voteId of every probe vote (all first votes), for the output check. */
  readonly firstVoteIds: ReadonlyMap<string, string>;
}

export async function probeLatency(o: LatencyProbeOptions): Promise<LatencyProbeResult> {
  const topics = topicNames(o.prefix);
  const total = Math.round(o.rate * o.seconds);
  const tag = createHash('sha256').update(o.prefix).digest('hex').slice(0, 8);
  const votes: Vote[] = Array.from({ length: total }, (_, i) => {
    const e = o.elections[i % o.elections.length];
    return { voteId: `${tag}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, electionId: e.electionId, voterId: `probe-${tag}-${i}`, candidateId: e.candidates[i % e.candidates.length].id, ts: 0 };
  });
  const firstVoteIds = new Map(votes.map((v) => [`${v.electionId}:${v.voterId}`, v.voteId]));
  const intended = new Map<string, number>();
  const histogram = newLatencyHistogram();

  const reader = await o.driver.createReader({
    partitions: Array.from({ length: o.partitions }, (_, partition) => ({ topic: topics.votesAccepted, partition, from: 'latest' as const })),
    isolation: 'read_committed',
    clientId: 'votestream-bench-probe',
  });
  const producer = await o.driver.createProducer({ clientId: 'votestream-bench-probe' });
  let seen = 0;
  let producing = true;
  const consuming = (async () => {
    let deadline = Number.POSITIVE_INFINITY;
    while (seen < total && Date.now() < deadline) {
      const records = await reader.poll({ maxWaitMs: 100 });
      const now = Date.now();
      for (const r of records) {
        const id = /"voteId":"([^"]+)"/.exec(r.value?.toString('utf8') ?? '')?.[1];
        const due = id === undefined ? undefined : intended.get(id);
        if (due === undefined) continue;
        intended.delete(id!);
        histogram.recordValue(Math.max(1, Math.round((now - due) * 1000)));
        seen++;
      }
      if (!producing && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + (o.graceMs ?? 30_000);
    }
  })();
  try {
    const start = Date.now() + 200;
    const sends: Array<Promise<unknown>> = [];
    let next = 0;
    while (next < total) {
      const now = Date.now();
      const batch: Vote[] = [];
      while (next < total && start + (next * 1000) / o.rate <= now) {
        const due = start + (next * 1000) / o.rate;
        const v = { ...votes[next], ts: Math.floor(due) };
        intended.set(v.voteId, due);
        batch.push(v);
        next++;
      }
      if (batch.length > 0) sends.push(producer.send(voteRecords(topics.votes, batch)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(sends);
    producing = false;
    await consuming;
  } finally {
    producing = false;
    await producer.close().catch(() => undefined);
    await reader.close().catch(() => undefined);
  }
  return { votes: total, histogram, missing: total - seen, firstVoteIds };
}
