import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { VoteCountSink } from '../../voting/count-sink.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { startFeed, type RunningFeed } from '../../voting/feed/feed.js';
import type { Snapshot } from '../../voting/feed/snapshot.js';
import { voteStream } from '../integration/sinks/vote-stream.js';
import { createVotingTopics, produce, testDriver } from '../support/kafka-io.js';
import { waitUntil } from '../support/poll.js';
import { rawRequest } from '../support/raw-http.js';
import { openElection } from '../support/open-election.js';
import { services, uniquePrefix } from '../support/services.js';

const now = Date.now();
const NOT_FOUND = JSON.stringify({ error: 'not-found', message: 'no such route' });

/**
 * Issue 15, item 5: the feed only reads. Every write method on every feed path is 404 not-found
 * (no route takes one) and changes nothing in Redis; what a WebSocket client sends is ignored
 * (the feed has no message handler; ws-clients.ts), a message over 1 KiB closes that client only,
 * and the feed keeps serving snapshots of the true counts to everyone.
 */
describe('the feed accepts no writes', () => {
  const prefix = uniquePrefix('feedro');
  const electionId = `${prefix}e`;
  let driver: KafkaDriver;
  let redis: Redis;
  let feed: RunningFeed;
  let sink: VoteCountSink;
  const records = voteStream({ elections: [electionId], partitions: 1, perPartition: 40, candidates: ['c1', 'c2'], regions: ['north'] })[0];

  /** Every key of this test's prefix and its whole content: what "changed nothing" is checked against. */
  const redisState = async (): Promise<Record<string, unknown>> => {
    const keys = (await redis.keys(`${prefix}*`)).sort();
    const state: Record<string, unknown> = {};
    for (const key of keys) state[key] = (await redis.type(key)) === 'hash' ? await redis.hgetall(key) : await redis.get(key);
    return state;
  };

  beforeAll(async () => {
    driver = testDriver(services().brokers);
    redis = new Redis(services().redis);
    await createVotingTopics(driver, prefix, 1);
    const election = openElection(electionId, now, { regions: ['north'] });
    await produce(driver, [electionRecord(election, prefix)]);
    feed = await startFeed({ driver, logger: createLogger({ level: 'silent' }), registry: createMetricsRegistry(), config: { host: '127.0.0.1', port: 0, prefix, redis: services().redis, intervalMs: 50 } });
    sink = new VoteCountSink({ redis, prefix });
    await sink.open({ taskId: 'count-0', partition: 0 });
    await sink.writeBatch(records.slice(0, 20));
  });

  afterAll(async () => {
    await feed?.close();
    await redis?.quit();
  });

  it('answers every write method on every feed path 404 not-found, and Redis is unchanged', async () => {
    const before = await redisState();
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const paths = [
      '/',
      `/elections/${electionId}`,
      '/page/page.css',
      '/v1/elections',
      `/v1/elections/${electionId}`,
      `/v1/elections/${electionId}/results`,
      `/v1/elections/${electionId}/events`,
      `/v1/elections/${electionId}/live`,
      `/v1/elections/${electionId}/receipts/0b9a1e8e-3f4c-4b5d-9e6f-7a8b9c0d1e2f`,
      `/v1/elections/${electionId}/votes`,
      '/v1/keys',
      '/v1/config',
      '/v1/demo-token',
      '/healthz',
      '/readyz',
      '/metrics',
    ];
    const body = JSON.stringify({ type: 'snapshot', electionId, total: 1_000_000, counts: { c1: 1_000_000 }, regions: {}, at: now });
    const wrong: string[] = [];
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of paths) {
        const res = await rawRequest(feed.port, [`${method} ${path} HTTP/1.1\r\nHost: feed\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`]);
        if (res.status !== 404 || res.body !== NOT_FOUND) wrong.push(`${method} ${path}: ${res.status} ${res.body}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await redisState()).toEqual(before);
    const results = (await (await fetch(`http://127.0.0.1:${feed.port}/v1/elections/${electionId}/results`)).json()) as Snapshot;
    expect(results.total).toBe(20);
  });

  it('ignores what WebSocket clients send, closes one that sends over 1 KiB, and keeps serving the true counts', async () => {
    const url = `ws://127.0.0.1:${feed.port}/v1/elections/${electionId}/live`;
    const open = async (): Promise<{ ws: WebSocket; snapshots: Snapshot[]; closed: Promise<number> }> => {
      const ws = new WebSocket(url);
      const snapshots: Snapshot[] = [];
      ws.on('message', (data) => snapshots.push(JSON.parse(String(data)) as Snapshot));
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return { ws, snapshots, closed };
    };
    const talker = await open();
    const bystander = await open();
    const loud = await open();
    await waitUntil(() => [talker, bystander, loud].every((c) => c.snapshots.length === 1), 'the first snapshot on every client');
    const before = await redisState();
    let loudClosed: number | undefined;
    void loud.closed.then((code) => (loudClosed = code));

    // Small messages of every kind: ignored, the connection stays.
    const forged = JSON.stringify({ type: 'snapshot', electionId, total: 1_000_000, counts: { c1: 1_000_000 }, regions: {}, at: now });
    for (const m of [forged, JSON.stringify({ candidateId: 'c1' }), 'subscribe other', '', '\u0000\ud800', Buffer.from([0xff, 0xfe, 0x00])]) talker.ws.send(m);
    talker.ws.ping();
    // One message past the feed's 1 KiB limit: that client is closed.
    loud.ws.send('x'.repeat(2048));
    await waitUntil(() => loudClosed !== undefined, 'the client that sent 2 KiB to be closed');

    // New votes are counted: both remaining clients get the true counts, nothing the talker sent.
    await sink.writeBatch(records.slice(20));
    await waitUntil(() => [talker, bystander].every((c) => c.snapshots.at(-1)?.total === 40), () => `both clients at 40 (${talker.snapshots.at(-1)?.total}, ${bystander.snapshots.at(-1)?.total})`, { timeoutMs: 10_000 });
    expect(talker.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [talker, bystander]) {
      expect(c.snapshots.map((s) => s.total)).toEqual(c.snapshots.map((s) => s.total).filter((t) => t === 20 || t === 40));
      expect(c.snapshots.every((s) => s.type === 'snapshot' && s.electionId === electionId)).toBe(true);
    }
    const counts: Record<string, number> = {};
    for (const r of records) counts[r.value.candidateId] = (counts[r.value.candidateId] ?? 0) + 1;
    expect(talker.snapshots.at(-1)!.counts).toEqual(counts);
    // Redis moved only by the 20 votes counted.
    const after = await redisState();
    expect(Object.keys(after)).toEqual(Object.keys(before));
    talker.ws.close();
    bystander.ws.close();

    // The feed still serves new clients.
    const late = await open();
    await waitUntil(() => late.snapshots.length === 1, 'a snapshot for a client connecting afterwards');
    expect(late.snapshots[0].total).toBe(40);
    late.ws.close();
    const ready = await fetch(`http://127.0.0.1:${feed.port}/readyz`);
    expect(ready.status).toBe(200);
  });
});
