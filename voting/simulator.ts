import { generateVotes, sampleElections } from './vote-generator.js';
import { ConfigError } from '../runtime/errors.js';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import type { Election } from './election.js';
import { electionRecord } from './election-publisher.js';
import { topicNames } from './topics.js';
import { encodeJson, type Vote } from './vote.js';

/** Where simulated votes go: straight into `votes`, or through the gateway (voting/http-voters.ts). */
export interface VoteSender {
  send(votes: readonly Vote[]): Promise<void>;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  readonly driver: KafkaDriver;
  readonly prefix?: string;
  /** Elections to vote in (default: three sample elections e1..e3, published first). */
  readonly elections?: readonly Election[];
  /** Publish `elections` before voting (default true; false when an admin created them). */
  readonly publishElections?: boolean;
  /** Default: a Kafka producer into `votes`. */
  readonly sender?: VoteSender;
  /** Votes per second. */
  readonly rate: number;
  /** Stop after this many votes; 0 = until the signal aborts. */
  readonly votes: number;
  readonly duplicateRatio: number;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly onProgress?: (sent: number) => void;
}

const TICK_MS = 100;

/** The Kafka sender: votes keyed by voter, as the gateway produces them. */
export async function kafkaVoteSender(driver: KafkaDriver, prefix = ''): Promise<VoteSender> {
  const topic = topicNames(prefix).votes;
  const producer = await driver.createProducer({ clientId: 'votestream-simulator' });
  return {
    send: async (votes) => {
      await producer.send(votes.map((v) => ({ topic, key: Buffer.from(v.voterId), value: encodeJson(v) })));
    },
    close: () => producer.close(),
  };
}

/**
 * Simulated voters: publishes the election versions (unless told not to), then sends votes at a
 * steady rate, a share of them repeats of earlier voters. Votes carry the current time as `ts`, as
 * the gateway stamps them (through the gateway, the gateway's own stamp wins).
 */
export async function simulateVoters(o: SimulatorOptions): Promise<number> {
  const topics = topicNames(o.prefix ?? '');
  const elections = o.elections ?? sampleElections(3);
  const admin = o.driver.createAdmin({ clientId: 'votestream-simulator' });
  try {
    await admin.partitionCounts([topics.votes, topics.elections]);
  } catch (err) {
    throw new ConfigError(`the voting topics are missing (${(err as Error).message}); run \`votestream init\` first`);
  } finally {
    await admin.close();
  }
  if (o.publishElections ?? true) {
    // Versions of the sample elections are fixed (effective from their opening), so a second run
    // republishes identical versions, which the workers ignore.
    const producer = await o.driver.createProducer({ clientId: 'votestream-simulator' });
    await producer.send(elections.map((e) => electionRecord(e, o.prefix))).finally(() => producer.close());
  }
  const sender = o.sender ?? (await kafkaVoteSender(o.driver, o.prefix));
  let sent = 0;
  try {
    const round = `r${Date.now().toString(36)}-`;
    const perTick = Math.max(1, Math.round((o.rate * TICK_MS) / 1000));
    let chunk = 0;
    const started = Date.now();
    while (!o.signal?.aborted && (o.votes === 0 || sent < o.votes)) {
      const count = o.votes === 0 ? 10_000 : Math.min(10_000, o.votes - sent);
      const { votes } = generateVotes({ count, duplicateRatio: o.duplicateRatio, elections, seed: chunk, voterPrefix: `${round}${chunk}-`, startTs: Date.now() });
      chunk++;
      for (let i = 0; i < votes.length && !o.signal?.aborted; i += perTick) {
        const now = Date.now();
        const slice = votes.slice(i, i + perTick).map((v, j) => ({ ...v, ts: now + j }));
        await sender.send(slice);
        sent += slice.length;
        o.onProgress?.(sent);
        // Pace against the start, so a slow send is caught up rather than lost.
        const due = started + (sent / o.rate) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    }
  } finally {
    await sender.close();
  }
  o.logger?.info({ sent }, 'simulated voters stopped');
  return sent;
}
