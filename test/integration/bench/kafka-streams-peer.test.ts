/**
 * The Kafka Streams peer (benchmarks/peers/kafka-streams) must do exactly what our dedup stage
 * does, or comparing their throughput means nothing. The same input goes to two fresh prefixes; our
 * dedup runs on one, the peer on the other; their `votes-accepted`, `votes-rejected` and `votes-dlq`
 * must be the same records, partition by partition, in the same order, byte for byte (keys, values,
 * headers, timestamps), and the counts must be what the judging rule gives for the input.
 *
 * The input is built so that order is a decision, not a race: every record goes to the partition of
 * the voter it names (a record keyed by someone else is keyed to land there too, a null-keyed one is
 * placed there), so each output partition is fed by exactly one input partition.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteBenchTopics, provisionBenchTopics, produceRecords } from '../../../benchmarks/bench-input.js';
import { ensureKafkaStreamsPeerBuilt, kafkaStreamsPeerApplicationId, peerJavaCommand, startKafkaStreamsPeer, type KafkaStreamsPeer } from '../../../benchmarks/peers/kafka-streams-peer.js';
import type { ConsumedRecord, KafkaDriver, ProducerRecord } from '../../../runtime/kafka/driver.js';
import { createLogger } from '../../../runtime/logger.js';
import { partitionForKey } from '../../../runtime/partitioner.js';
import { decideVote } from '../../../voting/decide.js';
import { mergeElectionVersion, versionAt, type Election, type ElectionHistory } from '../../../voting/election.js';
import { dedupeKey, topicNames } from '../../../voting/topics.js';
import { votingApplicationId } from '../../../voting/topology.js';
import { decodeVote, encodeJson, malformedRejection, toAcceptedVote, toRejectedVote, type RejectReason, type Vote } from '../../../voting/vote.js';
import { readTopic, startDedupApp } from '../../support/dedup-app.js';
import { testDriver, waitForGroupAtEnd } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';
import { prng } from '../../../voting/vote-generator.js';

const PARTITIONS = 4;
const VOTERS = 2_000;
const VOTES = 3_000;
/** An hour ago: every timestamp is in the past, as the broker requires of `votes`. */
const T0 = Date.now() - 3_600_000;
/** e1's second version closes it here, in the middle of the votes' ts range (T0 + 2 s .. T0 + 902 s). */
const T_CLOSE = T0 + 500_000;

const e1v1: Election = {
  electionId: 'e1',
  version: 1,
  effectiveAt: T0,
  title: 'Mayor',
  candidates: [
    { id: 'c1', name: 'Ana' },
    { id: 'c2', name: 'Bo' },
    { id: 'c3', name: 'Cy' },
  ],
  regions: [],
  opensAt: T0 + 1_000,
  closesAt: T0 + 10_000_000,
};
const e1v2: Election = { ...e1v1, version: 2, effectiveAt: T_CLOSE, closesAt: T_CLOSE };
const e2: Election = {
  electionId: 'e2',
  version: 1,
  effectiveAt: T0,
  title: 'Council',
  candidates: [
    { id: 'k1', name: 'Kai' },
    { id: 'k2', name: 'Lu' },
  ],
  regions: ['SP', 'RJ'],
  opensAt: T0,
  closesAt: T0 + 10_000_000,
};
const ELECTIONS = [e1v1, e1v2, e2];

const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const partitionOf = (key: string): number => partitionForKey(Buffer.from(key), PARTITIONS);
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** A vote record as the gateway writes it: key = voterId, timestamp = ts. */
function voteRecord(vote: Vote, over: Partial<ProducerRecord> = {}): ProducerRecord {
  return { topic: 'votes', key: Buffer.from(vote.voterId), value: json(vote), timestamp: vote.ts, ...over };
}

/** A key other than `voterId` that murmur2 places on the same partition. */
function aliasOnSamePartition(voterId: string): string {
  for (let i = 0; ; i++) if (`alias${i}` !== voterId && partitionOf(`alias${i}`) === partitionOf(voterId)) return `alias${i}`;
}

/** The input: ordinary votes with duplicates, then one record per rule and edge. */
function inputRecords(): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  for (let i = 0; i < VOTES; i++) {
    const voter = i % VOTERS;
    const inE2 = voter % 2 === 1;
    const vote: Vote = {
      voteId: uuid(i),
      electionId: i % 101 === 50 ? 'nope' : inE2 ? 'e2' : 'e1',
      voterId: `v${voter}`,
      candidateId: i % 97 === 13 ? 'zz' : inE2 ? `k${(i % 2) + 1}` : `c${(i % 3) + 1}`,
      ...(inE2 ? { region: i % 89 === 7 ? 'XX' : i % 3 === 0 ? 'SP' : 'RJ' } : {}),
      ts: T0 + 2_000 + i * 300,
    };
    // A few carry headers: the worker passes them on exactly as consumed (a repeated name twice, in
    // its places; an index-like name where it was).
    const headers: ProducerRecord['headers'] = [['trace', Buffer.from(`t${i}`)], ['7', Buffer.from('seven')], ['trace', Buffer.from(`again${i}`)]];
    records.push(voteRecord(vote, i % 500 === 3 ? { headers } : {}));
    // The gateway's retry of the same vote (same voteId): a duplicate like any other.
    if (i % 250 === 0) records.push(voteRecord(vote));
  }
  const special = (n: number, voterId: string, over: Partial<Vote> = {}): Vote => ({ voteId: uuid(100_000 + n), electionId: 'e1', voterId, candidateId: 'c1', ts: T0 + 10_000 + n, ...over });
  records.push(
    // ts after e1's first version but before it opens: closed; before any version: unknown-election.
    voteRecord(special(1, 'early', { ts: T0 + 500 })),
    voteRecord(special(2, 'earlier', { ts: T0 - 100 })),
    // Exactly at the close of version 2 (inclusive) and just after it.
    voteRecord(special(3, 'at-close', { ts: T_CLOSE })),
    voteRecord(special(4, 'after-close', { ts: T_CLOSE + 1 })),
    // Keyed by someone else (placed on the voter's partition): malformed, keyed by the voterId on output.
    voteRecord(special(5, 'kx1'), { key: Buffer.from(aliasOnSamePartition('kx1')) }),
    // No key at all, placed on the voter's partition: malformed.
    voteRecord(special(6, 'nk1'), { key: null, partition: partitionOf('nk1') }),
    // ts more than 2 s past its record's timestamp: malformed.
    voteRecord(special(7, 'ahead1'), { timestamp: T0 + 10_000 + 7 - 5_000 }),
    // A region for an election without regions is fine; an unknown one where there are regions is malformed.
    voteRecord(special(8, 'reg1', { region: 'ANY' })),
    voteRecord(special(9, 'reg2', { electionId: 'e2', candidateId: 'k1', region: 'MG' })),
    // The voter of this one votes again later: the first is accepted, the second a duplicate.
    voteRecord(special(10, 'again')),
    voteRecord(special(11, 'again', { candidateId: 'c2' })),
  );
  // JSON objects that fail the schema: rejected malformed, the raw object re-encoded with `reason`.
  const raw = (key: string, value: string): ProducerRecord => ({ topic: 'votes', key: Buffer.from(key), value: Buffer.from(value), timestamp: T0 + 20_000 });
  records.push(
    raw('m1', JSON.stringify({ ...special(20, 'm1'), voteId: 'not-a-uuid' })),
    raw('m2', JSON.stringify({ ...special(21, 'm2'), extra: true })),
    raw('m3', JSON.stringify({ ...special(22, 'm3'), ts: 1.5 })),
    raw('m4', '{"voteId":"x","2":1,"1":[1.5,1e21,1e-7,-0,1e400,{"b":null}],"reason":"dup","z":"\\ud800\\u0001é😀","voterId":"m4","voterId":"m4b"}'),
    raw('m5', `{"voteId":"${uuid(23)}","electionId":"e1","voterId":"m5","candidateId":"c1","ts":${T0 + 20_000},"region":null}`),
  );
  // A key that is not UTF-8 (an encoded surrogate): the worker reads it lossily and writes the
  // replacement characters back, so its output lands where the lossy key hashes; it is placed there.
  const badKey = Buffer.from([0x6d, 0xed, 0xa0, 0x80]);
  records.push({ ...raw('m6', '{"not":"a vote"}'), key: badKey, partition: partitionOf(badKey.toString('utf8')) });
  // Not even a JSON object: dead-lettered with the original bytes and an `error` header.
  const dead = (key: string, value: Buffer | null, headers?: ProducerRecord['headers']): ProducerRecord => ({ topic: 'votes', key: Buffer.from(key), value, timestamp: T0 + 30_000, ...(headers ? { headers } : {}) });
  records.push(
    dead('d1', Buffer.from('hello, this is not JSON at all')),
    dead('d2', Buffer.from('[1,2]')),
    dead('d3', Buffer.from('{"voteId":')),
    dead('d4', Buffer.from([0x7b, 0xff, 0x7d])),
    dead('d5', null),
    dead('d6', Buffer.from('{"a":1,}'), [['trace', Buffer.from('dlq')], ['error', Buffer.from('an earlier one')], ['x', Buffer.from('y')]]),
    // An object nested deeper than its rejection could be written back (MAX_VOTE_JSON_DEPTH).
    dead('d7', Buffer.from(`{"voterId":"d7","a":${'['.repeat(70)}${']'.repeat(70)}}`)),
  );
  return records;
}

interface Expected {
  accepted: number;
  rejected: Record<RejectReason, number>;
  dlq: number;
}

/** What the judging rule gives for the input (DESIGN section 3), from the pure decision functions. */
function expectedCounts(records: readonly ProducerRecord[]): Expected {
  let history = new Map<string, ElectionHistory>();
  for (const e of ELECTIONS) history = new Map(history).set(e.electionId, mergeElectionVersion(history.get(e.electionId), e, e.electionId));
  const out: Expected = { accepted: 0, rejected: { duplicate: 0, 'unknown-election': 0, 'unknown-candidate': 0, closed: 0, malformed: 0 }, dlq: 0 };
  const seen = new Set<string>();
  for (const r of records) {
    const d = decodeVote(r.value);
    if (!d.ok) {
      if (d.kind === 'undecodable') out.dlq++;
      else out.rejected.malformed++;
      continue;
    }
    const v = d.vote;
    const reason =
      r.key?.toString() !== v.voterId || v.ts > r.timestamp! + 2_000 ? 'malformed' : decideVote(v, versionAt(history.get(v.electionId), v.ts));
    if (reason !== undefined) out.rejected[reason]++;
    else if (seen.has(dedupeKey(v.electionId, v.voterId))) out.rejected.duplicate++;
    else {
      seen.add(dedupeKey(v.electionId, v.voterId));
      out.accepted++;
    }
  }
  return out;
}

/** A record as compared: everything but the offset (transaction markers take offsets). */
interface Content {
  readonly key: string | null;
  readonly value: string | null;
  readonly timestamp: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Per partition, in offset order. The dlq's source-topic and error name the run's own topic, so its prefix is neutralised. */
function byPartition(records: readonly ConsumedRecord[], prefix: string): Content[][] {
  const out: Content[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of records) {
    out[r.partition].push({
      key: r.key === null ? null : r.key.toString('hex'),
      value: r.value === null ? null : r.value.toString('hex'),
      timestamp: r.timestamp,
      headers: r.headers.map(([name, value]) => [name, name === 'source-topic' || name === 'error' ? value.toString('utf8').replaceAll(prefix, '<prefix>') : value.toString('hex')] as const),
    });
  }
  return out;
}


/** Votes values near the edges of the format, then each cut, spliced and mangled a few times over. */
function mutatedValues(count: number): Array<Buffer | null> {
  const base = [
    '{"voteId":"123e4567-e89b-42d3-a456-426614174000","electionId":"e1","voterId":"u42","candidateId":"c3","region":"SP","ts":1763800000000}',
    '{"ts":1.7638e12,"candidateId":"c3","voterId":"u42","electionId":"e1","voteId":"00000000-0000-0000-0000-000000000000"}',
    '{"voteId":"123e4567-e89b-42d3-a456-426614174000","electionId":"e1","voterId":"u42","candidateId":"c3","ts":-0}',
    '{"voteId":"x","2":1,"1":[1.5,1e21,1e-7,123456789012345680000,0.000001,-0,1e400,{"b":null,"a":true}],"reason":"dup","z":"\\ud800\\u0001\\n\\"é😀","__proto__":{"x":1}}',
    '{"voteId":"123e4567-e89b-42d3-a456-426614174000","electionId":"e1","voterId":"u42","candidateId":"c3","ts":9007199254740992}',
    '{"a":0.1,"b":5e-324,"c":1.7976931348623157e308,"d":123.456,"e":-1.5e-10,"f":100,"g":1e20,"h":12345678901234567890,"4294967295":1,"4294967294":2}',
    '[1,2]',
    'hello, this is not JSON at all',
    '',
  ];
  const alphabet = '{}[]":,. -+0123456789eEtrufalsn\\/bu\u0001a"\n';
  const random = prng(42);
  const out: Array<Buffer | null> = [null, Buffer.from([0xff, 0x7b, 0x7d]), Buffer.from([0xed, 0xa0, 0x80]), ...base.map((b) => Buffer.from(b))];
  while (out.length < count) {
    let text = base[out.length % base.length];
    for (let m = 1 + (out.length % 3); m > 0; m--) {
      const at = Math.floor(random() * (text.length + 1));
      const op = random();
      if (op < 0.4) text = text.slice(0, at) + text.slice(at + 1);
      else if (op < 0.8) text = text.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + text.slice(at);
      else text = text.slice(0, at);
    }
    out.push(Buffer.from(text));
  }
  return out;
}

/** What our decoder makes of a value, in CodecCheck's line format. */
function ourOutcome(value: Buffer | null): string {
  const d = decodeVote(value);
  if (d.ok) return `V ${encodeJson(toAcceptedVote(d.vote, 3, 17)).toString('base64')} ${encodeJson(toRejectedVote(d.vote, 'closed')).toString('base64')}`;
  if (d.kind === 'malformed') return `M ${encodeJson(malformedRejection(d.raw)).toString('base64')}`;
  return `D ${Buffer.from(d.error).toString('base64')}`;
}

const logger = createLogger({ level: 'warn' });
const progress = (msg: string): void => {
  process.stderr.write(`[kafka-streams-peer] ${msg}\n`);
};

describe('the Kafka Streams peer of the dedup stage', () => {
  let peer: KafkaStreamsPeer | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'vs-ks-peer-'));

  beforeAll(async () => {
    // The first use on a machine resolves Kafka Streams from Maven Central and builds the jar.
    const started = Date.now();
    const jar = await ensureKafkaStreamsPeerBuilt(progress);
    progress(`peer jar ready after ${((Date.now() - started) / 1000).toFixed(1)} s: ${jar}`);
  }, 600_000);

  afterAll(async () => {
    await peer?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('decodes, re-encodes and dead-letters votes values as our decoder does, on thousands of mangled inputs', async () => {
    // The broker test below covers a few of each kind; this one holds the JSON edge cases (V8's error
    // texts, number formatting, key order, escapes) against the peer's codec directly.
    const path = await ensureKafkaStreamsPeerBuilt(progress);
    const values = mutatedValues(5_000);
    const input = values.map((v) => (v === null ? 'NULL' : v.toString('base64'))).join('\n') + '\n';
    const run = spawnSync(peerJavaCommand(), ['-cp', path, 'dev.votestream.peer.CodecCheck'], { input, maxBuffer: 256 * 1024 * 1024 });
    expect(run.status, run.stderr.toString()).toBe(0);
    const theirs = run.stdout.toString('utf8').split('\n').slice(0, -1);
    expect(theirs.length).toBe(values.length);
    const differing = values.flatMap((v, i) => (ourOutcome(v) === theirs[i] ? [] : [`${v === null ? 'null' : JSON.stringify(v.toString('latin1'))}: ours ${ourOutcome(v)}, peer ${theirs[i]}`]));
    expect(differing.slice(0, 5)).toEqual([]);
    const kinds = new Set(theirs.map((l) => l[0]));
    expect([...kinds].sort()).toEqual(['D', 'M', 'V']);
  }, 600_000);

  it('writes the same accepted, rejected and dead-lettered records as our dedup, byte for byte', async () => {
    const { brokers } = services();
    const driver = testDriver(brokers);
    const ours = uniquePrefix('ks-ours');
    const theirs = uniquePrefix('ks-peer');
    const records = inputRecords();
    const expected = expectedCounts(records);
    try {
      await compareRuns(driver, brokers, ours, theirs, records, expected);
    } finally {
      await deleteBenchTopics(driver, ours);
      await deleteBenchTopics(driver, theirs);
      const admin = driver.createAdmin();
      await admin.deleteTopics([`${kafkaStreamsPeerApplicationId(theirs)}-voters-changelog`]).catch(() => undefined);
      await admin.close();
    }
  }, 600_000);

  async function compareRuns(driver: KafkaDriver, brokers: string, ours: string, theirs: string, records: readonly ProducerRecord[], expected: Expected): Promise<void> {
    for (const prefix of [ours, theirs]) {
      await provisionBenchTopics(driver, prefix, PARTITIONS, ELECTIONS);
      const elections = topicNames(prefix).elections;
      // Records the elections table must skip, after the versions: they change nothing.
      await produceRecords(driver, [
        { topic: elections, key: Buffer.from('e0'), value: Buffer.from('{not json') },
        { topic: elections, key: Buffer.from('e1'), value: json({ ...e1v1, title: 'Rewritten' }) },
        { topic: elections, key: Buffer.from('e9'), value: json({ ...e2, electionId: 'e8' }) },
      ]);
      await produceRecords(driver, records, { topic: topicNames(prefix).votes });
    }
    progress(`produced ${records.length} votes to ${ours} and ${theirs}`);

    const oursApp = await startDedupApp(brokers, ours, votingApplicationId(ours));
    peer = await startKafkaStreamsPeer({ brokers, prefix: theirs, threads: 2, stateDir, logger });
    progress(`peer running (pid ${peer.pid}, group ${peer.groupId})`);
    await Promise.all([
      oursApp.drainAndClose(driver),
      waitForGroupAtEnd(driver, peer.groupId, topicNames(theirs).votes, 240_000),
    ]);
    await peer.stop();
    expect(await peer.exited).toBe(0);
    peer = undefined;

    for (const topic of ['votesAccepted', 'votesRejected', 'votesDlq'] as const) {
      const a = byPartition(await readTopic(driver, topicNames(ours)[topic]), ours);
      const b = byPartition(await readTopic(driver, topicNames(theirs)[topic]), theirs);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(b[p].length, `${topic} partition ${p} count`).toBe(a[p].length);
        expect(b[p], `${topic} partition ${p}`).toEqual(a[p]);
      }
    }

    const accepted = await readTopic(driver, topicNames(theirs).votesAccepted);
    const rejected = await readTopic(driver, topicNames(theirs).votesRejected);
    const reasons: Record<string, number> = { duplicate: 0, 'unknown-election': 0, 'unknown-candidate': 0, closed: 0, malformed: 0 };
    for (const r of rejected) reasons[(JSON.parse(r.value!.toString()) as { reason: string }).reason]++;
    expect(accepted.length).toBe(expected.accepted);
    expect(reasons).toEqual(expected.rejected);
    expect((await readTopic(driver, topicNames(theirs).votesDlq)).length).toBe(expected.dlq);
    expect(accepted.length + rejected.length + expected.dlq).toBe(records.length);
    // Every rule is exercised, so an equal output is not equal by emptiness.
    for (const n of Object.values(expected.rejected)) expect(n).toBeGreaterThan(0);
    expect(expected.dlq).toBe(7);

    // The dedup store's changelogs hold the same first voteId per electionId:voterId.
    const changelog = async (topic: string): Promise<string[]> =>
      (await readTopic(driver, topic)).map((r) => `${r.partition} ${r.key?.toString()} ${r.value?.toString()}`).sort();
    const oursLog = await changelog(topicNames(ours).votersChangelog);
    expect(oursLog.length).toBe(expected.accepted);
    expect(await changelog(`${kafkaStreamsPeerApplicationId(theirs)}-voters-changelog`)).toEqual(oursLog);

    // Input headers reach the outputs (6 votes carry one, and one dead-lettered record).
    const traced = (rs: readonly ConsumedRecord[]): number => rs.filter((r) => r.headers.some(([name]) => name === 'trace')).length;
    expect(traced(accepted) + traced(rejected)).toBe(6);
    expect(traced(await readTopic(driver, topicNames(theirs).votesDlq))).toBe(1);
    progress(`equal outputs: ${accepted.length} accepted, ${JSON.stringify(reasons)} rejected, ${expected.dlq} dead-lettered`);
  }
});
