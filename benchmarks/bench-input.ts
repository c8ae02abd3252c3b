/**
 * The input of a dedup benchmark run, under its own topic prefix: the voting topics (as `votestream
 * init` creates them), the elections, and the votes, produced before any timing starts. Every run of
 * one benchmark produces the same encoded records, so all runs read the same input from zero.
 */
import { randomBytes } from 'node:crypto';
import type { KafkaDriver, ProducerRecord } from '../runtime/kafka/driver.js';
import type { Election } from '../voting/election.js';
import { topicNames, topicSpecs } from '../voting/topics.js';
import type { Vote } from '../voting/vote.js';
import { encodeJson } from '../voting/vote.js';

/** A fresh prefix: `bench-<what>-<time><random>-`. */
export function benchPrefix(what: string): string {
  return `bench-${what}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}-`;
}

/** Votes as `votes` records (key = voterId, value = vote JSON); encode once, produce many times. */
export function voteRecords(topic: string, votes: readonly Vote[]): ProducerRecord[] {
  return votes.map((v) => ({ topic, key: Buffer.from(v.voterId), value: encodeJson(v), timestamp: v.ts }));
}

/** Creates the voting topics of `prefix` and publishes the elections (the worker's global table). */
export async function provisionBenchTopics(driver: KafkaDriver, prefix: string, partitions: number, elections: readonly Election[]): Promise<void> {
  const admin = driver.createAdmin({ clientId: 'votestream-bench-admin' });
  try {
    await admin.ensureTopics(topicSpecs({ prefix, partitions }));
  } finally {
    await admin.close();
  }
  const topic = topicNames(prefix).elections;
  await produceRecords(
    driver,
    elections.map((e) => ({ topic, key: Buffer.from(e.electionId), value: Buffer.from(JSON.stringify(e)) })),
  );
}

/**
 * Produces records in order with one idempotent acks=all producer, `chunk` per request (retargeted to
 * `topic` when given), so a duplicate always lands after its original. Returns seconds taken.
 */
export async function produceRecords(
  driver: KafkaDriver,
  records: readonly ProducerRecord[],
  options: { topic?: string; chunk?: number; onProgress?: (done: number) => void } = {},
): Promise<number> {
  const chunk = options.chunk ?? 10_000;
  const started = process.hrtime.bigint();
  const producer = await driver.createProducer({ clientId: 'votestream-bench-producer' });
  let done = 0;
  try {
    for (let i = 0; i < records.length; i += chunk) {
      const slice = records.slice(i, i + chunk);
      await producer.send(options.topic === undefined ? slice : slice.map((r) => ({ ...r, topic: options.topic! })));
      done += slice.length;
      options.onProgress?.(done);
    }
  } finally {
    await producer.close();
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** What a run produces to its own `votes` topic before the clock starts. */
export interface BenchInput {
  readonly count: number;
  /** Produces every record to `topic`; returns seconds taken. */
  write(topic: string, onProgress: (done: number) => void): Promise<number>;
}

/** The same encoded records, for every run. */
export function recordsInput(driver: KafkaDriver, records: readonly ProducerRecord[]): BenchInput {
  return { count: records.length, write: (topic, onProgress) => produceRecords(driver, records, { topic, onProgress }) };
}

/**
 * `count` distinct voters, one vote each, spread over the elections, generated chunk by chunk while
 * producing (5 million votes would not fit in memory comfortably as records).
 */
export function distinctVotesInput(driver: KafkaDriver, count: number, elections: readonly Election[], chunk = 20_000): BenchInput {
  return {
    count,
    async write(topic, onProgress) {
      const started = process.hrtime.bigint();
      const producer = await driver.createProducer({ clientId: 'votestream-bench-producer' });
      try {
        for (let i = 0; i < count; i += chunk) {
          const votes: Vote[] = [];
          for (let n = i; n < Math.min(count, i + chunk); n++) {
            const e = elections[n % elections.length];
            const hex = n.toString(16).padStart(12, '0');
            votes.push({ voteId: `00000000-0000-4000-a000-${hex}`, electionId: e.electionId, voterId: `u${n}`, candidateId: e.candidates[n % e.candidates.length].id, region: e.regions[n % e.regions.length], ts: 1_763_800_000_000 + n });
          }
          await producer.send(voteRecords(topic, votes));
          onProgress(Math.min(count, i + chunk));
        }
      } finally {
        await producer.close();
      }
      return Number(process.hrtime.bigint() - started) / 1e9;
    },
  };
}

/** Deletes every topic of the prefix (the votes, outputs, changelog and elections); never throws. */
export async function deleteBenchTopics(driver: KafkaDriver, prefix: string): Promise<void> {
  const admin = driver.createAdmin({ clientId: 'votestream-bench-admin' });
  try {
    await admin.deleteTopics(topicSpecs({ prefix }).map((t) => t.name));
  } catch {
    // best effort: a benchmark's result does not depend on its clean-up
  } finally {
    await admin.close().catch(() => undefined);
  }
}
