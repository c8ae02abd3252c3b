import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../support/poll.js';
import { checkDedupOutputs } from '../../../benchmarks/output-check.js';
import { benchPrefix, deleteBenchTopics, produceRecords, provisionBenchTopics, recordsInput, voteRecords } from '../../../benchmarks/bench-input.js';
import { runDedupOnce } from '../../../benchmarks/dedup-run.js';
import { kafkatsFlowGroupId, startKafkatsFlowPeer } from '../../../benchmarks/peers/kafkats-flow-peer.js';
import type { ConsumedRecord, ProducerRecord } from '../../../runtime/kafka/driver.js';
import { createLogger } from '../../../runtime/logger.js';
import type { Election } from '../../../voting/election.js';
import { topicNames } from '../../../voting/topics.js';
import { generateVotes, sampleElections } from '../../../voting/vote-generator.js';
import type { RejectReason, Vote } from '../../../voting/vote.js';
import { readTopic, testDriver, waitForGroupAtEnd } from '../../support/kafka-io.js';
import { services } from '../../support/services.js';

const PARTITIONS = 4;
const T0 = 1_763_800_000_000;
/** When version 2 of `ever` takes effect: after every generated vote's ts. */
const T2 = T0 + 100_000;

const elections: Election[] = [
  ...sampleElections(3),
  { electionId: 'eclosed', version: 1, effectiveAt: 1_700_000_000_000, title: 'Closed', candidates: [{ id: 'c1', name: 'A' }], regions: [], opensAt: 1_700_000_000_000, closesAt: 1_710_000_000_000 },
  { electionId: 'ever', version: 1, effectiveAt: 1_700_000_000_000, title: 'Versions', candidates: [{ id: 'c1', name: 'A' }, { id: 'c2', name: 'B' }], regions: [], opensAt: 1_700_000_000_000, closesAt: 1_900_000_000_000 },
  { electionId: 'ever', version: 2, effectiveAt: T2, title: 'Versions', candidates: [{ id: 'c1', name: 'A' }, { id: 'c3', name: 'C' }], regions: [], opensAt: 1_700_000_000_000, closesAt: 1_900_000_000_000 },
];

const uuid = (n: number): string => `00000000-0000-4000-b000-${String(n).padStart(12, '0')}`;
const special = (n: number, over: Partial<Vote>): Vote => ({ voteId: uuid(n), electionId: 'e1', voterId: `x${n}`, candidateId: 'c1', ts: T0 + 50_000 + n, ...over });

describe('the @kafkats/flow dedup peer (exactly_once) on the real broker', () => {
  const { brokers } = services();
  const driver = testDriver(brokers);
  const logger = createLogger({ level: 'warn', name: 'kafkats-flow-peer-test' });
  const prefixes: string[] = [];
  const cleanUps: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const p of prefixes) await deleteBenchTopics(driver, p);
    for (const c of cleanUps) await c().catch(() => undefined);
  });

  it('accepts, rejects and dead-letters exactly as our dedup does, record for record', { timeout: 150_000 }, async () => {
    const generated = generateVotes({ count: 700, duplicateRatio: 0.2, elections: sampleElections(3), seed: 7, startTs: T0 });
    const replayed = generated.votes[10];
    const specials: Array<{ vote: Vote; key?: string; timestamp?: number; expect: RejectReason | 'accepted' }> = [
      { vote: special(1, { electionId: 'nope' }), expect: 'unknown-election' },
      { vote: special(2, { candidateId: 'c99' }), expect: 'unknown-candidate' },
      { vote: special(3, { electionId: 'eclosed' }), expect: 'closed' },
      { vote: special(4, { electionId: 'ever', candidateId: 'c3', ts: T2 - 1 }), expect: 'unknown-candidate' },
      { vote: special(5, { electionId: 'ever', candidateId: 'c3', ts: T2 }), expect: 'accepted' },
      { vote: special(6, { electionId: 'ever', candidateId: 'c2', ts: T2 - 1 }), expect: 'accepted' },
      { vote: special(7, { electionId: 'ever', candidateId: 'c2', ts: T2 + 1 }), expect: 'unknown-candidate' },
      { vote: special(8, { region: 'ZZ' }), expect: 'malformed' },
      { vote: special(9, {}), key: 'someone-else', expect: 'malformed' },
      { vote: special(10, {}), timestamp: T0, expect: 'malformed' },
      { vote: special(11, {}), expect: 'accepted' },
    ];
    const votesTopic = 'placeholder';
    const records: ProducerRecord[] = [
      ...voteRecords(votesTopic, generated.votes),
      // The same vote again (a producer retry upstream): the second copy is a duplicate.
      ...voteRecords(votesTopic, [replayed]),
      ...specials.map(({ vote, key, timestamp }) => ({ topic: votesTopic, key: Buffer.from(key ?? vote.voterId), value: Buffer.from(JSON.stringify(vote)), timestamp: timestamp ?? vote.ts })),
      // A JSON object that fails the schema: rejected malformed, kept as sent.
      { topic: votesTopic, key: Buffer.from('x20'), value: Buffer.from(JSON.stringify({ ...special(20, {}), extra: true })), timestamp: T0 },
      // Not a JSON object at all: votes-dlq.
      { topic: votesTopic, key: Buffer.from('x21'), value: Buffer.from('not json'), timestamp: T0 },
      { topic: votesTopic, key: Buffer.from('x22'), value: Buffer.from('[1,2]'), timestamp: T0 },
    ];

    // Ours, on its own prefix, same records in the same order.
    const ours = await runDedupOnce({
      driver,
      brokers,
      logger,
      label: 'ours',
      processes: 1,
      guarantee: 'exactly_once_v2',
      partitions: PARTITIONS,
      elections,
      input: recordsInput(driver, records),
      timeoutMs: 90_000,
      keep: true,
      cliPath: resolve('dist/cli/main.js'),
    });
    cleanUps.push(ours.cleanUp);

    // The flow peer.
    const prefix = benchPrefix('kflow');
    prefixes.push(prefix);
    const topics = topicNames(prefix);
    await provisionBenchTopics(driver, prefix, PARTITIONS, elections);
    await produceRecords(driver, records, { topic: topics.votes });
    const stateDir = mkdtempSync(join(tmpdir(), 'kflow-peer-'));
    cleanUps.push(async () => rmSync(stateDir, { recursive: true, force: true }));
    const peer = await startKafkatsFlowPeer({ brokers, prefix, stateDir, logger });
    try {
      expect(peer.groupId).toBe(kafkatsFlowGroupId(prefix));
      await Promise.race([
        waitForGroupAtEnd(driver, peer.groupId, topics.votes, 90_000),
        peer.exited.then((code) => {
          throw new Error(`peer exited with ${code}:\n${peer.tail().join('\n')}`);
        }),
      ]);
    } finally {
      await peer.stop();
    }
    expect(await peer.exited).toBe(0);

    const accepted = await readTopic(driver, topics.votesAccepted);
    const rejected = await readTopic(driver, topics.votesRejected);
    const dlq = await readTopic(driver, topics.votesDlq);
    const values = (rs: ConsumedRecord[]) => rs.map((r) => JSON.parse(r.value!.toString('utf8')) as Record<string, unknown>);

    // Exactly the first vote of every pair, plus the specials that pass.
    const expectedAccepted = new Set([...generated.firstVoteIds.values(), ...specials.filter((s) => s.expect === 'accepted').map((s) => s.vote.voteId)]);
    expect(accepted).toHaveLength(expectedAccepted.size);
    expect(new Set(values(accepted).map((v) => v.voteId))).toEqual(expectedAccepted);
    for (const r of accepted) {
      const v = JSON.parse(r.value!.toString('utf8')) as { voterId: string; source: { partition: number; offset: number } };
      expect(r.key?.toString()).toBe(v.voterId);
      expect(v.source.partition).toBe(r.partition);
    }

    // Every duplicate (the generated ones and the replay) as `duplicate`, each special with its reason.
    const byReason = new Map<string, string[]>();
    for (const v of values(rejected)) byReason.set(String(v.reason), [...(byReason.get(String(v.reason)) ?? []), String(v.voteId)]);
    expect(byReason.get('duplicate')).toHaveLength(generated.duplicates + 1);
    for (const reason of ['unknown-election', 'unknown-candidate', 'closed', 'malformed'] as const) {
      const expected = [...specials.filter((s) => s.expect === reason).map((s) => s.vote.voteId), ...(reason === 'malformed' ? [uuid(20)] : [])].sort();
      expect((byReason.get(reason) ?? []).sort(), reason).toEqual(expected);
    }
    expect(rejected).toHaveLength(generated.duplicates + 1 + specials.filter((s) => s.expect !== 'accepted').length + 1);
    expect(values(rejected).find((v) => v.voteId === uuid(20))).toMatchObject({ extra: true, reason: 'malformed' });

    expect(dlq.map((r) => [r.key?.toString(), r.value?.toString()])).toEqual(expect.arrayContaining([['x21', 'not json'], ['x22', '[1,2]']]));
    expect(dlq).toHaveLength(2);

    // Record for record against ours: same partition, same order, same key and value bytes, same dead-letter headers.
    const oursTopics = topicNames(ours.prefix);
    const shape = (rs: ConsumedRecord[]) => rs.map((r) => [r.partition, r.key?.toString('base64') ?? null, r.value?.toString('utf8') ?? null]);
    expect(shape(accepted)).toEqual(shape(await readTopic(driver, oursTopics.votesAccepted)));
    expect(shape(rejected)).toEqual(shape(await readTopic(driver, oursTopics.votesRejected)));
    const oursDlq = await readTopic(driver, oursTopics.votesDlq);
    expect(shape(dlq)).toEqual(shape(oursDlq));
    // The topic names in them differ by their prefix only.
    const headers = (rs: ConsumedRecord[], p: string) => rs.map((r) => r.headers.map(([k, v]) => [k, v.toString().replaceAll(p, '<prefix>')]));
    expect(headers(dlq, prefix)).toEqual(headers(oursDlq, ours.prefix));
    expect(headers(dlq, prefix)[0].map(([k]) => k)).toEqual(['error', 'source-topic', 'source-partition', 'source-offset']);
  });

  it('keeps its outputs exact across a SIGKILL and a restart (exactly_once, fenced by its transactional id)', { timeout: 120_000 }, async () => {
    const prefix = benchPrefix('kflowkill');
    prefixes.push(prefix);
    const topics = topicNames(prefix);
    const generated = generateVotes({ count: 1000, duplicateRatio: 0.2, elections: sampleElections(3), seed: 9, startTs: T0 });
    await provisionBenchTopics(driver, prefix, PARTITIONS, sampleElections(3));
    await produceRecords(driver, voteRecords(topics.votes, generated.votes));
    const admin = driver.createAdmin();
    const committed = async (): Promise<number> => (await admin.committedOffsets(kafkatsFlowGroupId(prefix), [topics.votes]).catch(() => [])).reduce((n, c) => n + Number(c.offset), 0);
    try {
      const first = await startKafkatsFlowPeer({ brokers, prefix, stateDir: tmpdir(), logger });
      // The first committed transaction is the moment to kill it: part-way, with state to fence.
      let atKill = 0;
      await waitUntil(async () => (atKill = await committed()) > 0, 'the flow peer to commit its first transaction', { intervalMs: 20, timeoutMs: 60_000 });
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      // Killed part-way: at least one transaction committed, and not all of them.
      expect(atKill).toBeLessThan(generated.votes.length);

      const second = await startKafkatsFlowPeer({ brokers, prefix, stateDir: tmpdir(), logger });
      try {
        await waitForGroupAtEnd(driver, second.groupId, topics.votes, 90_000);
      } finally {
        await second.stop();
      }
      expect(await second.exited).toBe(0);
    } finally {
      await admin.close();
    }
    // Every first vote once, every duplicate rejected once: nothing lost, nothing twice.
    expect(await checkDedupOutputs({ driver, prefix, partitions: PARTITIONS, firstVoteIds: generated.firstVoteIds, duplicates: generated.duplicates })).toEqual({
      accepted: generated.firstVoteIds.size,
      rejected: generated.duplicates,
    });
  });
});
