/**
 * Watches the totals a voter would see: Redis `_total` of each election (polled every few ms, one
 * pipelined round trip for all elections) and the feed's snapshots (an SSE stream per election,
 * as the live page would hold). Each keeps a trace of the summed total for the latency matcher.
 */
import { request, type IncomingMessage } from 'node:http';
import { createRedisClient, isRedisCluster } from '../../sinks/redis-client.js';
import { countsKey, TOTAL_FIELD } from '../../voting/redis-keys.js';
import { onSseData } from '../sse-data.js';
import { TotalTrace } from './arrival-latency.js';

export interface TotalWatcher {
  readonly trace: TotalTrace;
  stop(): Promise<void>;
}

export function watchRedisTotals(o: { redisUrl: string; prefix: string; electionIds: readonly string[]; intervalMs?: number }): TotalWatcher {
  const redis = createRedisClient(o.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const trace = new TotalTrace();
  const keys = o.electionIds.map((e) => countsKey(e, o.prefix));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        // A cluster refuses a pipeline across slots (each election has its own): one HGET each there.
        const totals: unknown[] = isRedisCluster(redis) ? await Promise.all(keys.map((k) => redis.hget(k, TOTAL_FIELD))) : ((await keys.reduce((p, k) => p.hget(k, TOTAL_FIELD), redis.pipeline()).exec()) ?? []).map(([, v]) => v);
        const at = Date.now();
        trace.observe(at, totals.reduce<number>((n, v) => n + Number(v ?? 0), 0));
      } catch {
        // Redis down for a moment: the trace has a gap, which the latency shows.
      }
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 5));
    }
  })();
  return {
    trace,
    async stop() {
      stopped = true;
      await loop;
      redis.disconnect();
    },
  };
}

/** One SSE stream per election from the feed; the trace holds the sum of their latest totals. */
export function watchFeedTotals(o: { feedUrl: string; electionIds: readonly string[] }): TotalWatcher {
  const trace = new TotalTrace();
  const latest = new Map<string, number>();
  const responses: IncomingMessage[] = [];
  const requests = o.electionIds.map((electionId) => {
    const req = request(new URL(`/v1/elections/${encodeURIComponent(electionId)}/events`, o.feedUrl), { headers: { accept: 'text/event-stream' } }, (res) => {
      responses.push(res);
      onSseData(res, (data) => {
        try {
          const snapshot = JSON.parse(data) as { type?: string; total?: number };
          if (snapshot.type !== 'snapshot' || typeof snapshot.total !== 'number') return;
          latest.set(electionId, snapshot.total);
          trace.observe(Date.now(), [...latest.values()].reduce((a, b) => a + b, 0));
        } catch {
          // not a snapshot
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end();
    return req;
  });
  return {
    trace,
    async stop() {
      for (const r of responses) r.destroy();
      for (const r of requests) r.destroy();
    },
  };
}
