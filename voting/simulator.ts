import { generateVotes, sampleElections } from './vote-generator.js';
import { ConfigError } from '../runtime/errors.js';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import type { Election } from './election.js';
import { electionRecord } from './election-publisher.js';
import { topicNames } from './topics.js';
import { encodeJson } from './vote.js';

export interface SimulatorOptions {
  readonly driver: KafkaDriver;
  readonly prefix?: string;
  /** Elections to publish and vote in (default: three sample elections e1..e3). */
  readonly elections?: readonly Election[];
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

/**
 * Simulated voters, straight into `votes` (until the gateway exists, this is how votes arrive
 * locally): publishes the election versions, then sends votes at a steady rate, a share of them repeats of
 * earlier voters. Votes carry the current time as `ts`, as the gateway will stamp them.
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
  const producer = await o.driver.createProducer({ clientId: 'votestream-simulator' });
  let sent = 0;
  try {
    // Versions of the sample elections are fixed (effective from their opening), so a second run
    // republishes identical versions, which the workers ignore.
    await producer.send(elections.map((e) => electionRecord(e, o.prefix)));
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
        await producer.send(slice.map((v) => ({ topic: topics.votes, key: Buffer.from(v.voterId), value: encodeJson(v) })));
        sent += slice.length;
        o.onProgress?.(sent);
        // Pace against the start, so a slow send is caught up rather than lost.
        const due = started + (sent / o.rate) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    }
  } finally {
    await producer.close();
  }
  o.logger?.info({ sent }, 'simulated voters stopped');
  return sent;
}
