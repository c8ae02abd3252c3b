import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsumedRecord, KafkaDriver, ProducerRecord } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { StreamsApp } from '../../runtime/streams-app.js';
import { topicNames } from '../../voting/topics.js';
import { votingTopology } from '../../voting/topology.js';
import { DriverDouble } from './driver-double.js';
import { TEST_DRIVER } from './kafka-io.js';
import { waitUntil } from './poll.js';

/**
 * The dedup sub-topology of the voting system run in this process (a StreamsApp with its own
 * application id), for tests that need the real broker but not the sinks.
 */
export { createVotingTopics, readTopic } from './kafka-io.js';

export interface DedupApp {
  readonly app: StreamsApp;
  readonly applicationId: string;
  /** Waits until the dedup group has committed every `votes` record, then closes the app. */
  drainAndClose(driver: KafkaDriver, timeoutMs?: number): Promise<void>;
}

/** `driver` replaces the app's own (a test double around the real one). */
export async function startDedupApp(brokers: string, prefix: string, applicationId: string, driver?: KafkaDriver): Promise<DedupApp> {
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-dedup-'));
  const app = new StreamsApp(votingTopology({ prefix, roles: ['dedup'] }), { applicationId, brokers, stateDir, commitIntervalMs: 100, driver: TEST_DRIVER }, { logger: createLogger({ level: 'warn' }), driver });
  await app.start();
  const votes = topicNames(prefix).votes;
  return {
    app,
    applicationId,
    drainAndClose: async (driver, timeoutMs = 120_000) => {
      const admin = driver.createAdmin();
      try {
        let progress = '';
        await waitUntil(
          async () => {
            const ends = await admin.endOffsets([votes], 'read_committed');
            const committed = new Map((await admin.committedOffsets(`${applicationId}-votes-source`, [votes])).map((c) => [c.partition, c.offset]));
            progress = ends.map((e) => `${e.partition}:${committed.get(e.partition) ?? 'none'}/${e.offset}`).join(' ');
            return ends.every((e) => e.offset === 0n || committed.get(e.partition) === e.offset);
          },
          () => `the dedup group ${applicationId} to commit all of ${votes} (${progress})`,
          { timeoutMs },
        );
      } finally {
        await admin.close();
      }
      await app.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}


/** A record as the tests compare it: where it is and exactly what it holds. */
export function describeRecord(r: ConsumedRecord): string {
  return `${r.partition}@${r.offset} ${describeContent(r)}`;
}

/**
 * Partition, key and value without the offset: outputs written in transactions have offsets that
 * depend on where the commits fell (each commit marker takes one), which is not a decision.
 */
export function describeContent(r: ConsumedRecord): string {
  return `${r.partition} ${r.key === null ? '<null>' : r.key.toString('utf8')} ${r.value === null ? '<null>' : r.value.toString('utf8')}`;
}

/** Copies records to another topic unchanged: same partition, key, value, timestamp and headers. */
export function copyTo(records: readonly ConsumedRecord[], topic: string): ProducerRecord[] {
  return records.map((r) => ({ topic, partition: r.partition, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers }));
}

/**
 * The real driver, except that the global store reader hands over every non-empty batch `lagMs`
 * late: a process whose elections table lags behind the topic (a slow or reconnecting reader).
 */
export function laggingGlobalReader(driver: KafkaDriver, lagMs: number): KafkaDriver {
  return new DriverDouble(driver, {
    // Fault injection, not synchronisation: the lag is the point.
    afterReaderPoll: async (clientId, records) => {
      if (clientId === 'global-stores' && records.length > 0) await new Promise((r) => setTimeout(r, lagMs));
    },
  });
}
