/**
 * One timed run of the flow peer, for the side-by-side figures:
 *   node dist/benchmarks/peers/kafkats-flow/measure.js [--votes 5000] [--partitions 12] [--brokers h:p]
 * Produces the input to a fresh prefix before any timing (10% duplicates), starts the peer, and
 * times it until its group committed the end of `votes`; then checks the outputs record by record,
 * prints one JSON line of figures on stdout and removes the topics.
 */
import { BenchmarkError } from '../../errors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { createLogger } from '../../../runtime/logger.js';
import { topicNames } from '../../../voting/topics.js';
import { generateVotes, sampleElections } from '../../../voting/vote-generator.js';
import { benchPrefix, deleteBenchTopics, produceRecords, provisionBenchTopics, voteRecords } from '../../bench-input.js';
import { checkDedupOutputs } from '../../output-check.js';
import { cpuSeconds } from '../../process-cpu.js';
import { startKafkatsFlowPeer } from '../kafkats-flow-peer.js';

const { values } = parseArgs({ options: { votes: { type: 'string' }, partitions: { type: 'string' }, brokers: { type: 'string' } } });
const count = Number(values.votes ?? 5000);
const partitions = Number(values.partitions ?? 12);
const brokers = values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
const logger = createLogger({ name: 'kafkats-flow-measure' });
const driver = new PlatformaticKafkaDriver({ brokers, clientId: 'kafkats-flow-measure' });
const prefix = benchPrefix('kflow');
const stateDir = mkdtempSync(join(tmpdir(), 'kflow-measure-'));
const topics = topicNames(prefix);
const round = (n: number): number => Math.round(n * 100) / 100;

try {
  const elections = sampleElections(3);
  const generated = generateVotes({ count, duplicateRatio: 0.1, elections, seed: 11 });
  await provisionBenchTopics(driver, prefix, partitions, elections);
  await produceRecords(driver, voteRecords(topics.votes, generated.votes));
  const admin = driver.createAdmin({ clientId: 'kafkats-flow-measure-watch' });
  const total = (await admin.endOffsets([topics.votes], 'read_uncommitted')).reduce((n, e) => n + Number(e.offset), 0);

  const started = Date.now();
  const peer = await startKafkatsFlowPeer({ brokers, prefix, stateDir, logger });
  const runningAt = Date.now();
  const cpuAtRunning = cpuSeconds(peer.pid) ?? 0;
  let exitCode: number | null | undefined;
  void peer.exited.then((code) => (exitCode = code));
  let committed = 0;
  let cpuAtDone = 0;
  try {
    for (;;) {
      committed = (await admin.committedOffsets(peer.groupId, [topics.votes]).catch(() => [])).reduce((n, c) => n + Number(c.offset), 0);
      if (committed >= total) {
        cpuAtDone = cpuSeconds(peer.pid) ?? 0;
        break;
      }
      if (exitCode !== undefined) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `peer exited with ${exitCode}:\n${peer.tail().join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() - started > 600_000) throw new BenchmarkError('BENCHMARK_TIMEOUT', `timed out at ${committed}/${total}`);
    }
  } finally {
    await peer.stop();
    await admin.close();
  }
  const doneAt = Date.now();
  const counts = await checkDedupOutputs({ driver, prefix, partitions, firstVoteIds: generated.firstVoteIds, duplicates: generated.duplicates });
  const processingSeconds = (doneAt - runningAt) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      peer: '@kafkats/flow 0.12.0 exactly_once (commitIntervalMs 100)',
      votes: total,
      partitions,
      ...counts,
      wallSeconds: round((doneAt - started) / 1000),
      startupSeconds: round((runningAt - started) / 1000),
      processingSeconds: round(processingSeconds),
      votesPerSecond: Math.round(total / processingSeconds),
      votesPerSecondIncludingStartup: Math.round(total / ((doneAt - started) / 1000)),
      cpuSeconds: round(cpuAtDone),
      cpuSecondsAfterRunning: round(cpuAtDone - cpuAtRunning),
      cpuMsPerVote: round(((cpuAtDone - cpuAtRunning) * 1000) / total),
    })}\n`,
  );
} finally {
  await deleteBenchTopics(driver, prefix);
  rmSync(stateDir, { recursive: true, force: true });
}
