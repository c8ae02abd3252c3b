/**
 * Poison records written straight into `votes`, `votes-accepted` and `elections` (issue 15 item 4),
 * with the real worker (all roles, as an operator runs it) on the real broker, Redis and DynamoDB
 * Local: bad UTF-8, not JSON, the wrong schema, a JSON nested 100,000 levels deep, a value near the
 * topic's message limit, null keys, keys that are not the voter / election, repeated and odd header
 * names (`__proto__` among them), all interleaved with valid votes. Each lands exactly where DESIGN
 * sections 3 and 4 send it (`votes-dlq` with the original bytes, key and headers plus where it came
 * from and why; `votes-rejected` with `reason: malformed`; a skipped, counted `elections` record),
 * every valid vote is counted exactly once in Redis and DynamoDB, the worker never exits or stalls,
 * and a restart emits nothing again.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord, ProducerRecord, RecordHeaders } from '../../../runtime/kafka/driver.js';
import { partitionForKey } from '../../../runtime/partitioner.js';
import { votingGroupId } from '../../../voting/count-offsets-reset.js';
import { encodeElection } from '../../../voting/election.js';
import { topicNames } from '../../../voting/topics.js';
import { encodeJson, MAX_VOTE_JSON_DEPTH, type Vote } from '../../../voting/vote.js';
import { produce, readTopic, TEST_DRIVER, waitForGroupAtEnd } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import { services } from '../../support/services.js';
import {
  checkChains,
  checkRedis,
  deleteElectionKeys,
  expectedFor,
  makeVotes,
  PARTITIONS,
  runWorker,
  setupPipeline,
  sinkGroupOffsets,
  stopWorkerCleanly,
  waitForChains,
  waitForTotal,
  type Pipeline,
  type VoteSet,
} from '../../support/scenario.js';
import { metricSum, scrapeMetrics, type WorkerHandle } from '../../support/worker-process.js';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const BAD_UTF8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x22, 0x7d]);
const DEEP = text(`{"voteId":${'['.repeat(100_000)}1${']'.repeat(100_000)},"voterId":"pz-deep"}`);
/** Repeated names, `__proto__`, a name our dead letters also write, an empty and a non-ASCII name. */
const ODD_HEADERS: RecordHeaders = [
  ['h', text('1')],
  ['h', text('2')],
  ['__proto__', text('p')],
  ['error', text('mine')],
  ['', text('empty')],
  ['ünï', text('u')],
  ['h', text('3')],
];

/** A record as compared: where it is, its key and value as text, its headers in order. */
interface Seen {
  readonly partition: number;
  readonly key: string | null;
  readonly value: string;
  readonly headers: [string, string][];
}
/** Bytes as text, a long value as its length and digest, so that a failing comparison stays readable. */
function shown(b: Buffer | null): string {
  if (b === null) return '<null>';
  return b.length <= 200 ? b.toString('latin1') : `<${b.length} bytes, sha256 ${createHash('sha256').update(b).digest('hex').slice(0, 16)}>`;
}
const seen = (r: ConsumedRecord): Seen => ({
  partition: r.partition,
  key: r.key === null ? null : r.key.toString('latin1'),
  value: shown(r.value),
  headers: r.headers.map(([k, v]) => [k, v.toString('latin1')]),
});
const headerText = (h: RecordHeaders | undefined): [string, string][] => (h ?? []).map(([k, v]) => [k, v.toString('latin1')]);

/**
 * Headers as they come back through the driver under test. kafkajs 2.2.4 keeps them in an object both
 * ways (runtime/kafka/kafkajs/records.ts): repeated names come out grouped where the name first
 * appeared. The platformatic driver keeps the list.
 */
function viaDriver<T extends readonly [string, unknown]>(headers: readonly T[]): T[] {
  if (TEST_DRIVER !== 'kafkajs') return [...headers];
  const byName = new Map<string, T[]>();
  for (const h of headers) {
    const list = byName.get(h[0]);
    if (list === undefined) byName.set(h[0], [h]);
    else list.push(h);
  }
  return [...byName.values()].flat();
}

/**
 * Waits until the count and persist groups committed, on every partition of `votes-accepted`, the
 * offset after its last record: their lag is zero. (`votes-accepted` is written in transactions, so
 * its end offset lies one past the last commit marker, which no group commits.)
 */
async function waitForSinkGroupsPastLastRecord(p: Pipeline): Promise<void> {
  const topic = topicNames(p.prefix).votesAccepted;
  const last = new Map<number, bigint>();
  for (const r of await readTopic(p.driver, topic)) last.set(r.partition, r.offset + 1n);
  for (const role of ['count', 'persist'] as const) {
    let behind = '';
    await waitUntil(
      async () => {
        const committed = await sinkGroupOffsets(p, role);
        behind = [...last].filter(([partition, next]) => committed.get(partition) !== next).map(([partition, next]) => `p${partition} ${committed.get(partition) ?? 'none'}/${next}`).join(', ');
        return behind === '';
      },
      () => `the ${role} group to commit past the last record of ${topic} (behind: ${behind})`,
      { timeoutMs: 180_000, intervalMs: 250 },
    );
  }
}

describe('poison records straight into the topics', () => {
  let p: Pipeline;
  let redis: Redis;
  beforeAll(async () => {
    p = await setupPipeline('poison', 1);
    redis = new Redis(services().redis);
  });
  afterAll(async () => {
    await deleteElectionKeys(redis, p);
    await redis.quit();
    await p.cleanup();
  });

  const sinkGroupsPastLastRecord = () => waitForSinkGroupsPastLastRecord(p);

  it('dead-letters or rejects each one exactly as documented, counts every valid vote once, never stalls, and re-emits nothing after a restart', async () => {
    const topics = topicNames(p.prefix);
    const election = p.elections[0];
    const E = election.electionId;
    const set = makeVotes(p, 400, 41, 0.2);
    const home = (key: string) => partitionForKey(text(key), PARTITIONS);
    const vote = (voterId: string, n: number, over: Partial<Vote> = {}): Vote => ({
      voteId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      electionId: E,
      voterId,
      candidateId: 'c2',
      ts: 1_763_900_000_000 + n,
      ...over,
    });

    // Valid votes that end up counted besides `set`: the voter whose vote came under another key votes
    // again properly (a rejected vote never uses up a turn), and one voter sends odd headers.
    const wrongKeyVote = vote('pz-wrongkey', 1);
    const nullKeyVote = vote('pz-nullkey', 2);
    const secondTry = vote('pz-wrongkey', 3, { candidateId: 'c3' });
    const withHeaders = vote('pz-headers', 4, { region: 'N' });
    const extra: VoteSet = {
      votes: [secondTry, withHeaders],
      firstVoteIds: new Map([
        [`${E}:pz-wrongkey`, secondTry.voteId],
        [`${E}:pz-headers`, withHeaders.voteId],
      ]),
    };
    const wrongSchema = { voteId: 'not-a-uuid', electionId: E, voterId: 'pz-schema', candidateId: 'c1', ts: 1 };
    const huge = text(JSON.stringify({ voterId: 'pz-huge', pad: 'x'.repeat(1_000_000 - 40) }));
    expect(huge.length).toBeGreaterThan(999_900);
    const atTopicLimit = text(JSON.stringify({ voterId: 'pz-max', pad: 'z'.repeat(1_048_400 - 40) }));

    /** `omitted`: the dead letter would not fit the message limit, so it carries no value (header `value-omitted`). */
    type Fate = { to: 'dlq'; error: string | RegExp; omitted?: true } | { to: 'rejected'; key: string | null; partition: number; value: unknown };
    interface Poison {
      readonly record: ProducerRecord & { partition: number };
      readonly fate: Fate;
    }
    const undecodable = (what: string) => `undecodable vote on "${topics.votes}": ${what}`;
    const at = (key: string | null, partition: number | undefined, value: Buffer | null, headers?: RecordHeaders) => ({
      topic: topics.votes,
      key: key === null ? null : text(key),
      partition: partition ?? home(key!),
      value,
      headers,
    });
    const votePoisons: Poison[] = [
      { record: at('pz-utf8', undefined, BAD_UTF8), fate: { to: 'dlq', error: undecodable('record value is not valid UTF-8') } },
      { record: at('pz-json', undefined, text('{"voteId":')), fate: { to: 'dlq', error: new RegExp(`^${undecodable('invalid JSON: ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) } },
      { record: at('pz-array', undefined, text('[1,2]')), fate: { to: 'dlq', error: undecodable('expected a JSON object, got an array') } },
      { record: at('pz-null-value', undefined, null), fate: { to: 'dlq', error: undecodable('record value is null') } },
      { record: at('pz-schema', undefined, text(JSON.stringify(wrongSchema))), fate: { to: 'rejected', key: 'pz-schema', partition: home('pz-schema'), value: { ...wrongSchema, reason: 'malformed' } } },
      { record: at('pz-deep', undefined, DEEP), fate: { to: 'dlq', error: undecodable(`JSON nested deeper than ${MAX_VOTE_JSON_DEPTH} levels`) } },
      // Its rejection would not fit `votes-rejected`: the input is dead-lettered instead.
      { record: at('pz-huge', undefined, huge), fate: { to: 'dlq', error: new RegExp(`for "${topics.votesRejected}" exceeds the 1000000-byte message limit`), omitted: true } },
      // As large as the topic takes (the broker's 1 MiB message.max.bytes): its dead letter, with four headers more, is not.
      { record: at('pz-max', undefined, atTopicLimit), fate: { to: 'dlq', error: new RegExp(`for "${topics.votesRejected}" exceeds the 1000000-byte message limit`), omitted: true } },
      { record: at(null, 5, text(JSON.stringify({ ...wrongSchema, voterId: 'pz-null-schema' }))), fate: { to: 'rejected', key: null, partition: 5, value: { ...wrongSchema, voterId: 'pz-null-schema', reason: 'malformed' } } },
      { record: at(null, 7, text('nope')), fate: { to: 'dlq', error: new RegExp(`^${undecodable('invalid JSON')}`) } },
      { record: at(null, 2, encodeJson(nullKeyVote)), fate: { to: 'rejected', key: 'pz-nullkey', partition: home('pz-nullkey'), value: { ...nullKeyVote, reason: 'malformed' } } },
      {
        record: at('someone-else', home('someone-else'), encodeJson(wrongKeyVote)),
        fate: { to: 'rejected', key: 'pz-wrongkey', partition: home('pz-wrongkey'), value: { ...wrongKeyVote, reason: 'malformed' } },
      },
      {
        record: at('pz-headers-schema', undefined, text(JSON.stringify({ ...wrongSchema, voterId: 'pz-headers-schema' })), ODD_HEADERS),
        fate: { to: 'rejected', key: 'pz-headers-schema', partition: home('pz-headers-schema'), value: { ...wrongSchema, voterId: 'pz-headers-schema', reason: 'malformed' } },
      },
      { record: at('pz-headers-bad', undefined, text('{oops'), ODD_HEADERS), fate: { to: 'dlq', error: new RegExp(`^${undecodable('invalid JSON')}`) } },
    ];
    const validWithHeaders = at('pz-headers', undefined, encodeJson(withHeaders), ODD_HEADERS);
    const votesRecord = (v: Vote) => at(v.voterId, undefined, encodeJson(v));
    const half = set.votes.length / 2;

    // Accepted-vote poisons: each is read (and dead-lettered) by both sink groups, count and persist.
    const invalidAccepted = (what: string) => new RegExp(`^invalid accepted vote on "${topics.votesAccepted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": ${what}`);
    const acc = (key: string | null, partition: number | undefined, value: Buffer | null, headers?: RecordHeaders) => ({
      topic: topics.votesAccepted,
      key: key === null ? null : text(key),
      partition: partition ?? home(key!),
      value,
      headers,
    });
    const acceptedPoisons: Poison[] = [
      { record: acc('pa-utf8', undefined, BAD_UTF8), fate: { to: 'dlq', error: invalidAccepted('record value is not valid UTF-8') } },
      { record: acc('pa-json', undefined, text('{"voteId"')), fate: { to: 'dlq', error: invalidAccepted('invalid JSON') } },
      { record: acc('pa-schema', undefined, encodeJson(vote('pa-schema', 90))), fate: { to: 'dlq', error: invalidAccepted('source: required') } },
      { record: acc('pa-deep', undefined, DEEP), fate: { to: 'dlq', error: invalidAccepted(`JSON nested deeper than ${MAX_VOTE_JSON_DEPTH} levels`) } },
      // The sinks' sources read keys with the string serde: a null key is itself undecodable.
      { record: acc(null, 4, text('[]')), fate: { to: 'dlq', error: `string serde cannot deserialize null data from topic "${topics.votesAccepted}"` } },
      { record: acc('pa-headers', undefined, text('{oops'), ODD_HEADERS), fate: { to: 'dlq', error: invalidAccepted('invalid JSON') } },
      { record: acc('pa-big', undefined, text(JSON.stringify({ pad: 'y'.repeat(400_000) }))), fate: { to: 'dlq', error: invalidAccepted('voteId: required') } },
    ];

    // Election poisons: skipped by every worker's elections table, counted by reason, never fatal.
    const el = (key: string | null, value: Buffer | null) => ({ topic: topics.elections, key: key === null ? null : text(key), partition: 0, value });
    const electionPoisons: ProducerRecord[] = [
      el(E, BAD_UTF8),
      el(E, text('{"electionId":')),
      el(E, text(JSON.stringify({ ...election, version: 'two' }))),
      el(E, text(`{"electionId":"${E}","title":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)),
      el(E, text(JSON.stringify({ ...election, title: 't'.repeat(900_000) }))),
      // A valid later version under another election's key, and under no key: neither may apply.
      el('pz-other', encodeElection({ ...election, version: 2, effectiveAt: election.effectiveAt + 1, candidates: [{ id: 'c9', name: 'Intruder' }] })),
      el(null, encodeElection({ ...election, version: 2, effectiveAt: election.effectiveAt + 1, candidates: [{ id: 'c9', name: 'Intruder' }] })),
    ];

    await produce(p.driver, electionPoisons, 1);
    // Valid votes before and after, on every partition; the poisons one per request (the large ones
    // must each be a batch of their own).
    await produce(p.driver, set.votes.slice(0, half).map(votesRecord));
    await produce(p.driver, [...votePoisons.map((x) => x.record), validWithHeaders], 1);
    await produce(p.driver, [...set.votes.slice(half).map(votesRecord), votesRecord(secondTry)]);
    await produce(p.driver, acceptedPoisons.map((x) => x.record), 1);

    // Where each poison landed in its topic (partition, offset), by its unique key and value.
    const locate = async (topic: string, poisons: readonly Poison[]) => {
      const records = await readTopic(p.driver, topic);
      return poisons.map((x) => {
        const r = records.filter((c) => c.partition === x.record.partition && (c.key?.equals(x.record.key ?? Buffer.alloc(0)) ?? x.record.key === null) && (c.value === null ? x.record.value === null : x.record.value !== null && c.value.equals(x.record.value)));
        expect(r.length).toBe(1);
        return { ...x, offset: Number(r[0].offset) };
      });
    };
    const votePlaced = await locate(topics.votes, votePoisons);
    const acceptedPlaced = await locate(topics.votesAccepted, acceptedPoisons);

    const stateDir = p.newStateDir('w1');
    const w = await runWorker(p, { instanceId: 'poison-1', stateDir });
    const all: VoteSet = { votes: [...set.votes, ...extra.votes], firstVoteIds: new Map([...set.firstVoteIds, ...extra.firstVoteIds]) };
    const expected = expectedFor(all, E);
    await waitForGroupAtEnd(p.driver, votingGroupId(p.prefix, 'dedup'), topics.votes);
    await waitForTotal(redis, E, expected.total, 120_000, p.prefix);
    await waitForChains(p, E, expected.total, 180_000);
    await sinkGroupsPastLastRecord();
    expect(w.child.exitCode, 'the worker is still running').toBe(null);
    const m = await scrapeMetrics(w);
    // Five values that are not an election version, and the one without a key (its key cannot be read);
    // the version under another election's key is refused by the table.
    expect(metricSum(m, 'votestream_global_records_skipped_total', { reason: 'undecodable' })).toBe(6);
    expect(metricSum(m, 'votestream_global_records_skipped_total', { reason: 'rejected' })).toBe(1);
    await stopWorkerCleanly(w);

    // votes-dlq: the original key, bytes and headers, then why and where from; one per vote poison,
    // one per sink group for each accepted-vote poison; on the partition the poison came from.
    const dlqOf = (x: Poison & { offset: number }, sourceTopic: string): Omit<Seen, 'headers'> & { headers: unknown[] } => ({
      partition: x.record.partition,
      key: x.record.key === null ? null : x.record.key.toString('latin1'),
      value: (x.fate as { omitted?: true }).omitted ? '<null>' : shown(x.record.value),
      headers: viaDriver<readonly [string, unknown]>([
        ...headerText(x.record.headers),
        ['error', (x.fate as { error: string | RegExp }).error instanceof RegExp ? expect.stringMatching((x.fate as { error: RegExp }).error) : (x.fate as { error: string }).error],
        ['source-topic', sourceTopic],
        ['source-partition', String(x.record.partition)],
        ['source-offset', String(x.offset)],
        ...((x.fate as { omitted?: true }).omitted ? [['value-omitted', String(x.record.value!.length)] as const] : []),
      ]),
    });
    const byPlace = (a: { partition: number; headers: unknown[] }, b: { partition: number; headers: unknown[] }) => {
      const offset = (h: unknown[]) => Number((h.find((e) => (e as [string])[0] === 'source-offset') as [string, string] | undefined)?.[1] ?? -1);
      const topic = (h: unknown[]) => String((h.find((e) => (e as [string])[0] === 'source-topic') as [string, string] | undefined)?.[1] ?? '');
      return a.partition - b.partition || topic(a.headers).localeCompare(topic(b.headers)) || offset(a.headers) - offset(b.headers);
    };
    const expectedDlq = [
      ...votePlaced.filter((x) => x.fate.to === 'dlq').map((x) => dlqOf(x, topics.votes)),
      ...acceptedPlaced.flatMap((x) => [dlqOf(x, topics.votesAccepted), dlqOf(x, topics.votesAccepted)]),
    ];
    const dlq = (await readTopic(p.driver, topics.votesDlq)).map(seen);
    expect(dlq.length).toBe(expectedDlq.length);
    expect([...dlq].sort(byPlace)).toEqual([...expectedDlq].sort(byPlace));

    // votes-rejected: the duplicates of `set`, and each schema or key poison, malformed, with its headers.
    const rejected = (await readTopic(p.driver, topics.votesRejected)).map(seen);
    const malformed = rejected.filter((r) => (JSON.parse(r.value) as { reason: string }).reason === 'malformed');
    const expectedMalformed = votePlaced
      .filter((x) => x.fate.to === 'rejected')
      .map((x) => {
        const f = x.fate as Extract<Fate, { to: 'rejected' }>;
        return { partition: f.partition, key: f.key, value: JSON.stringify(f.value), headers: viaDriver(headerText(x.record.headers)) };
      });
    const byValue = (a: Seen, b: Seen) => a.value.localeCompare(b.value);
    expect([...malformed].sort(byValue)).toEqual([...expectedMalformed].sort(byValue));
    const duplicates = rejected.filter((r) => (JSON.parse(r.value) as { reason: string }).reason !== 'malformed');
    const firstIds = new Set(all.firstVoteIds.values());
    expect(duplicates.map((r) => JSON.parse(r.value) as Vote & { reason: string }).map((v) => [v.voteId, v.reason]).sort()).toEqual(
      set.votes.filter((v) => !firstIds.has(v.voteId)).map((v) => [v.voteId, 'duplicate']).sort(),
    );

    // votes-accepted: exactly the first vote of each voter (the poisons we wrote there aside), headers kept.
    const ours = new Set(acceptedPlaced.map((x) => `${x.record.partition}@${x.offset}`));
    const accepted = (await readTopic(p.driver, topics.votesAccepted)).filter((r) => !ours.has(`${r.partition}@${r.offset}`));
    expect(accepted.map((r) => (JSON.parse(r.value!.toString()) as Vote).voteId).sort()).toEqual([...firstIds].sort());
    const acceptedWithHeaders = accepted.find((r) => r.key?.toString() === 'pz-headers')!;
    expect(headerText(acceptedWithHeaders.headers)).toEqual(viaDriver(headerText(ODD_HEADERS)));

    // Redis and DynamoDB hold exactly the first votes.
    await checkRedis(redis, E, expected, p.prefix);
    await checkChains(p, E, expected);

    // A restart: a sentinel vote after it is the only new output anywhere.
    const sentinel = vote('pz-sentinel', 5);
    const before = {
      accepted: (await readTopic(p.driver, topics.votesAccepted)).length,
      rejected: rejected.length,
      dlq: dlq.length,
    };
    const again = await runWorker(p, { instanceId: 'poison-1', stateDir });
    await produce(p.driver, [votesRecord(sentinel)]);
    await waitForGroupAtEnd(p.driver, votingGroupId(p.prefix, 'dedup'), topics.votes);
    await waitForTotal(redis, E, expected.total + 1, 120_000, p.prefix);
    await waitForChains(p, E, expected.total + 1, 180_000);
    await sinkGroupsPastLastRecord();
    expect(again.child.exitCode).toBe(null);
    await stopWorkerCleanly(again as WorkerHandle);
    const acceptedAfter = await readTopic(p.driver, topics.votesAccepted);
    expect(acceptedAfter.length).toBe(before.accepted + 1);
    expect((JSON.parse(acceptedAfter.find((r) => r.key?.toString() === 'pz-sentinel')!.value!.toString()) as Vote).voteId).toBe(sentinel.voteId);
    expect((await readTopic(p.driver, topics.votesRejected)).length).toBe(before.rejected);
    expect((await readTopic(p.driver, topics.votesDlq)).length).toBe(before.dlq);
    const afterRestart = expectedFor({ votes: [...all.votes, sentinel], firstVoteIds: new Map([...all.firstVoteIds, [`${E}:pz-sentinel`, sentinel.voteId]]) }, E);
    await checkRedis(redis, E, afterRestart, p.prefix);
    await checkChains(p, E, afterRestart);
  }, 600_000);
});
