import { Redis } from 'ioredis';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { createProgress } from '../runtime/progress.js';
import { electionRecord } from '../voting/election-publisher.js';
import { topicNames, topicSpecs } from '../voting/topics.js';
import { BenchmarkError } from './errors.js';
import { addProgress, startClientPool, shares, type ClientPool } from './feed-client-pool.js';
import { feedFigures, type FeedCounters } from './feed-figures.js';
import type { ClientProgress, ClientResult, FeedTransport } from './feed-messages.js';
import { checkOpenFiles, startFeedProcess, type FeedProcess } from './feed-process.js';
import { BENCH_CANDIDATES, BENCH_REGIONS, dropCounts, publishUpdates, resetCounts } from './feed-publisher.js';
import { scrapeMetrics, sumMetric } from './metrics-scrape.js';
import { cpuSeconds } from './process-cpu.js';
import { machineInfo, type BenchmarkResult } from './result.js';
import { rssMiB, sampleRss } from './rss-sampler.js';

export interface FeedBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly redis: string;
  readonly logger: Logger;
  readonly command: string;
  readonly wsClients: number;
  readonly sseClients: number;
  /** Updates published per second. */
  readonly rate: number;
  readonly durationS: number;
  /** Client processes per transport. */
  readonly clientProcesses: number;
  /** New streams per second, over all client processes of a transport. */
  readonly connectRate: number;
  /** The feed's --interval (conflation period, ms). */
  readonly intervalMs: number;
  /** The feed's port; 0 for any free one. */
  readonly port: number;
}

const ELECTION = 'bench';
/** Descriptors a Node process holds besides its sockets (stdio, epoll, Redis, Kafka, IPC...). */
const FD_MARGIN = 64;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const sumProgress = (pools: readonly ClientPool[]): ClientProgress => pools.map((p) => p.progress()).reduce(addProgress);

async function feedCounters(url: string): Promise<FeedCounters> {
  const text = await scrapeMetrics(`${url}/metrics`);
  return {
    messagesSent: sumMetric(text, 'votestream_feed_messages_sent_total'),
    snapshotsPublished: sumMetric(text, 'votestream_feed_snapshots_published_total'),
    snapshotsSkipped: sumMetric(text, 'votestream_feed_snapshots_skipped_total'),
    clientsDropped: sumMetric(text, 'votestream_feed_clients_dropped_total'),
    connectionsRefused: sumMetric(text, 'votestream_feed_connections_refused_total'),
    publishToSendSumS: sumMetric(text, 'votestream_feed_publish_to_send_seconds_sum'),
    publishToSendCount: sumMetric(text, 'votestream_feed_publish_to_send_seconds_count'),
  };
}

/** Polls until the feed serves the election (its election view has read the record). */
async function waitForElection(feed: FeedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${feed.url}/v1/elections/${ELECTION}`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
  throw new BenchmarkError('BENCHMARK_TIMEOUT', `the feed did not serve election ${ELECTION} within ${timeoutMs} ms`);
}

/** Waits until `done()` or the deadline; rejects as soon as the feed exits. */
async function until(feed: FeedProcess, done: () => boolean, timeoutMs: number, tick?: () => void): Promise<boolean> {
  let exited = false;
  void feed.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) {
    if (exited) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `the feed exited during the run:\n${feed.tail().join('\n')}`);
    tick?.();
    await sleep(100);
  }
  return done();
}

/**
 * `bench feed`: one `votestream feed` process serving one election to `wsClients` WebSocket and
 * `sseClients` SSE streams held by client processes on this machine, while the bench writes the
 * election's counts to Redis and PUBLISHes an update `rate` times a second for `durationS`.
 * Measures what the clients received (messages/s, each update's latency from its PUBLISH to the
 * first snapshot covering it), and the feed's CPU, RSS and slow-client counters.
 */
export async function runFeedBenchmark(o: FeedBenchmarkOptions): Promise<BenchmarkResult<Record<string, number | string>>> {
  const asked: Record<FeedTransport, number> = { ws: o.wsClients, sse: o.sseClients };
  const streams = o.wsClients + o.sseClients;
  if (streams === 0) throw new BenchmarkError('BENCHMARK_OUTPUT', 'no clients: give --ws-clients or --sse-clients');
  checkOpenFiles([
    { what: `the feed (${streams.toLocaleString('en-US')} streams)`, descriptors: streams + FD_MARGIN, otherwise: 'one feed process cannot hold that many streams here; use fewer clients' },
    { what: 'a client process', descriptors: Math.max(...shares(Math.max(o.wsClients, o.sseClients), o.clientProcesses)) + FD_MARGIN, otherwise: 'use more --client-processes' },
  ]);

  const prefix = `bench-feed-${Date.now().toString(36)}-`;
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench' });
  await admin.ensureTopics(topicSpecs({ prefix, partitions: 1 })).finally(() => admin.close());
  const now = Date.now();
  const producer = await o.driver.createProducer({ clientId: 'votestream-bench' });
  await producer
    .send([electionRecord({ electionId: ELECTION, version: 1, effectiveAt: now - 60_000, title: 'Feed bench', candidates: BENCH_CANDIDATES.map((id) => ({ id, name: `Candidate ${id}` })), regions: [...BENCH_REGIONS], opensAt: now - 60_000, closesAt: now + 86_400_000 }, prefix)])
    .finally(() => producer.close());
  const redis = new Redis(o.redis, { maxRetriesPerRequest: 1 });
  await resetCounts(redis, ELECTION, prefix);

  const feed = await startFeedProcess({ brokers: o.brokers, redis: o.redis, prefix, port: o.port, intervalMs: o.intervalMs, maxConnections: streams });
  const pools: ClientPool[] = [];
  try {
    await waitForElection(feed, 30_000);
    const rss = sampleRss(feed.pid, { intervalMs: 500 });
    const path = (t: FeedTransport): string => `/v1/elections/${ELECTION}/${t === 'ws' ? 'live' : 'events'}`;
    const wsUrl = `${feed.url.replace('http://', 'ws://')}${path('ws')}`;

    const connectStart = performance.now();
    const connecting = createProgress('connecting', streams, { unit: 'clients' });
    for (const t of ['ws', 'sse'] as const) {
      if (asked[t] > 0) pools.push(startClientPool({ transport: t, url: t === 'ws' ? wsUrl : `${feed.url}${path(t)}`, clients: asked[t], processes: o.clientProcesses, connectRatePerS: o.connectRate }));
    }
    const settled = (): boolean => {
      const p = sumProgress(pools);
      return p.connected + p.failed >= streams;
    };
    const connectBudgetMs = (streams / o.connectRate) * 1000 + 60_000;
    await until(feed, settled, connectBudgetMs, () => connecting.update(sumProgress(pools).connected));
    connecting.stop();
    const connectS = (performance.now() - connectStart) / 1000;
    const afterConnect = sumProgress(pools);
    o.logger.info({ connected: afterConnect.connected, failed: afterConnect.failed, connectS }, 'clients connected');
    // Let the handshakes' garbage and timers settle before the clock starts.
    await sleep(2_000);
    const connectedRss = rssMiB(feed.pid) ?? 0;

    const before = await feedCounters(feed.url);
    const clientPids = pools.flatMap((p) => p.pids);
    const clientsCpu = (): number => clientPids.reduce((a, pid) => a + (cpuSeconds(pid) ?? 0), 0);
    const feedCpu0 = cpuSeconds(feed.pid) ?? 0;
    const clientsCpu0 = clientsCpu();
    const publishing = createProgress('publishing', Math.round(o.rate * o.durationS), { unit: 'updates' });
    let feedGone = false;
    void feed.exited.then(() => (feedGone = true));
    const pub = await publishUpdates({
      redis,
      electionId: ELECTION,
      prefix,
      rate: o.rate,
      durationS: o.durationS,
      stopped: () => feedGone,
      onPublished: (total, atMs) => {
        for (const p of pools) p.published(total, atMs);
        publishing.update(total);
      },
    });
    publishing.stop();
    // The last update's snapshot: every open client should hold it within an interval or two.
    await until(feed, () => {
      const p = sumProgress(pools);
      return p.announced >= pub.published && p.caughtUp >= p.connected - p.closed;
    }, 10_000);
    const feedCpuS = (cpuSeconds(feed.pid) ?? feedCpu0) - feedCpu0;
    const clientsCpuS = clientsCpu() - clientsCpu0;
    const after = await feedCounters(feed.url);
    rss.stop();
    if (feedGone) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `the feed exited during the run:\n${feed.tail().join('\n')}`);

    const results: ClientResult[][] = [];
    for (const p of pools.splice(0)) results.push(await p.finish());
    const figures = feedFigures({
      durationS: pub.elapsedS,
      published: pub.published,
      publisherMaxLagMs: pub.maxLagMs,
      connectS,
      transports: results.map((rs) => ({ transport: rs[0].transport, asked: asked[rs[0].transport], results: rs })),
      feedCpuS,
      feedPeakRssMiB: rss.peakMiB(),
      feedConnectedRssMiB: connectedRss,
      clientsCpuS,
      counters: {
        messagesSent: after.messagesSent - before.messagesSent,
        snapshotsPublished: after.snapshotsPublished - before.snapshotsPublished,
        snapshotsSkipped: after.snapshotsSkipped,
        clientsDropped: after.clientsDropped,
        connectionsRefused: after.connectionsRefused,
        publishToSendSumS: after.publishToSendSumS - before.publishToSendSumS,
        publishToSendCount: after.publishToSendCount - before.publishToSendCount,
      },
    });
    return {
      benchmark: 'feed',
      command: o.command,
      date: new Date().toISOString(),
      machine: machineInfo(),
      parameters: {
        wsClients: o.wsClients,
        sseClients: o.sseClients,
        rate: o.rate,
        durationS: o.durationS,
        clientProcesses: o.clientProcesses,
        connectRate: o.connectRate,
        intervalMs: o.intervalMs,
        load: 'one feed process, one election; client processes on the same machine; latency per update from the bench PUBLISH to the first snapshot covering it',
      },
      figures,
    };
  } finally {
    await Promise.all(pools.map((p) => p.finish(5_000).catch(() => undefined)));
    await feed.stop();
    await dropCounts(redis, ELECTION, prefix).catch(() => undefined);
    redis.disconnect();
    const cleanup = o.driver.createAdmin({ clientId: 'votestream-bench' });
    await cleanup
      .deleteTopics(Object.values(topicNames(prefix)))
      .catch((e: unknown) => o.logger.warn({ err: e, prefix }, 'deleting the bench topics failed'))
      .finally(() => cleanup.close());
  }
}
