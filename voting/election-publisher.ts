import type { Producer, ProducerRecord } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { encodeElection, type Election } from './election.js';
import { topicNames } from './topics.js';

/**
 * How far ahead of the publishing instant a new version takes effect. A worker treats its elections
 * table as complete up to the instant it observed the topic's end offsets; a version appended after
 * such an observation but effective before it would judge some votes differently live and on
 * replay. Taking effect a little later than it is sent leaves the append that long to land first;
 * `publishElectionVersion` reports when it did not.
 */
export const PUBLISH_LEAD_MS = 1000;

/** The effectiveAt for a version published at `nowMs`: the lead ahead, never before the previous version. */
export function effectiveInstant(nowMs: number, previous?: Pick<Election, 'effectiveAt'>): number {
  return Math.max(nowMs + PUBLISH_LEAD_MS, previous?.effectiveAt ?? 0);
}

export function electionRecord(version: Election, prefix = ''): ProducerRecord {
  return { topic: topicNames(prefix).elections, key: Buffer.from(version.electionId), value: encodeElection(version) };
}

/**
 * Appends versions to `elections` (acks=all). Returns false, after logging, when the broker's
 * acknowledgement came after a version's effectiveAt: a worker may then have judged votes of that
 * instant with the previous version, and a replay would not. (Seeding versions effective in the past
 * before any vote exists, as the sample elections do, is safe; use `electionRecord` for that.)
 */
export async function publishElectionVersions(producer: Producer, versions: readonly Election[], options: { prefix?: string; logger?: Logger; nowMs?: () => number } = {}): Promise<boolean> {
  const now = options.nowMs ?? Date.now;
  await producer.send(versions.map((v) => electionRecord(v, options.prefix)));
  const ackedAt = now();
  const late = versions.filter((v) => v.effectiveAt < ackedAt);
  if (late.length === 0) return true;
  options.logger?.warn(
    { versions: late.map((v) => ({ electionId: v.electionId, version: v.version, effectiveAt: v.effectiveAt })), ackedAt },
    'election version acknowledged after its effectiveAt: votes of that instant may be judged differently on replay',
  );
  return false;
}
