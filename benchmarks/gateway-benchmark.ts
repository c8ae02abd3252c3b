import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';
import { ProcessStartError } from '../infra/errors.js';
import { electionRecord } from '../voting/election-publisher.js';
import { issueToken } from '../voting/gateway/token-issuer.js';
import { topicNames, topicSpecs } from '../voting/topics.js';
import { BenchmarkError } from './errors.js';
import { openLoop, type OpenLoopResult } from './open-loop-http.js';
import { cpuSeconds } from './process-cpu.js';
import { machineInfo, type BenchmarkResult } from './result.js';

export interface GatewayBenchmarkOptions {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly logger: Logger;
  readonly command: string;
  /** Offered requests per second (open loop). */
  readonly rate: number;
  readonly durationS: number;
  readonly connections: number;
  readonly voters: number;
  /** Rounds, each the full gateway then the bare one, interleaved so that drift hits both alike. */
  readonly rounds: number;
  readonly partitions: number;
}

type Mode = 'kafka' | 'bare';

interface RoundResult extends OpenLoopResult {
  readonly mode: Mode;
  readonly cpuS: number;
}

interface RunningGateway {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Starts `votestream gateway` as its own process and resolves with its address once it listens. */
function startGatewayProcess(brokers: string, prefix: string, secret: string, mode: Mode): Promise<RunningGateway> {
  const child = spawn(
    process.execPath,
    [process.argv[1], 'gateway', '--host', '127.0.0.1', '--port', '0', '--ip-rate', '1e9', '--ip-burst', '1e9', '--voter-rate', '1e9', '--voter-burst', '1000000000', '--max-in-flight', '100000', ...(mode === 'bare' ? ['--bench-no-produce'] : [])],
    { env: { ...process.env, KAFKA_BROKERS: brokers, VOTESTREAM_TOPIC_PREFIX: prefix, VOTESTREAM_TOKEN_SECRET: secret, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.pid === undefined) throw new ProcessStartError('could not start the gateway');
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /gateway listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m !== null) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `the gateway exited (${code}) before it listened`)));
  });
}

async function stop(g: RunningGateway): Promise<void> {
  const exited = new Promise((r) => g.child.once('exit', r));
  g.child.kill('SIGTERM');
  await exited;
}

/**
 * `bench gateway`: accepted votes/s of one gateway process with real Kafka acknowledgements, and
 * the same server answering without producing, under the same open-loop load from this process.
 * Checks that `votes` holds exactly as many records as the full gateway answered 202.
 */
export async function runGatewayBenchmark(o: GatewayBenchmarkOptions): Promise<BenchmarkResult<Record<string, number | string>>> {
  const prefix = `bench-gw-${Date.now().toString(36)}-`;
  const admin = o.driver.createAdmin({ clientId: 'votestream-bench' });
  await admin.ensureTopics(topicSpecs({ prefix, partitions: o.partitions })).finally(() => admin.close());
  const now = Date.now();
  const producer = await o.driver.createProducer({ clientId: 'votestream-bench' });
  await producer
    .send([electionRecord({ electionId: 'bench', version: 1, effectiveAt: now - 60_000, title: 'Bench', candidates: [{ id: 'c1', name: 'One' }, { id: 'c2', name: 'Two' }], regions: [], opensAt: now - 60_000, closesAt: now + 86_400_000 }, prefix)])
    .finally(() => producer.close());
  const secret = randomBytes(32).toString('base64url');
  const tokens = await Promise.all(Array.from({ length: o.voters }, (_, i) => issueToken({ voterId: `b${i}`, electionId: 'bench', ttlSec: 3600, algorithm: 'HS256', key: secret })));
  const body = JSON.stringify({ candidateId: 'c1' });
  const requestFor = (i: number) => ({ path: '/v1/elections/bench/votes', headers: { authorization: `Bearer ${tokens[i % tokens.length]}`, 'content-type': 'application/json' }, body });

  const results: RoundResult[] = [];
  let accepted = 0;
  for (let round = 0; round < o.rounds; round++) {
    for (const mode of ['kafka', 'bare'] as const) {
      const g = await startGatewayProcess(o.brokers, prefix, secret, mode);
      try {
        const warm = await openLoop({ url: g.url, rate: Math.min(o.rate, 2000), durationS: 1, connections: o.connections, requestFor });
        const cpu0 = cpuSeconds(g.child.pid!) ?? 0;
        const r = await openLoop({ url: g.url, rate: o.rate, durationS: o.durationS, connections: o.connections, requestFor });
        const cpuS = (cpuSeconds(g.child.pid!) ?? 0) - cpu0;
        if (mode === 'kafka') accepted += (warm.statuses.get(202) ?? 0) + (r.statuses.get(202) ?? 0);
        results.push({ ...r, mode, cpuS });
        o.logger.info({ round, mode, accepted: r.statuses.get(202) ?? 0, elapsedS: r.elapsedS, latencyUs: r.latencyUs, cpuS }, 'gateway round done');
      } finally {
        await stop(g);
      }
    }
  }
  const counter = o.driver.createAdmin({ clientId: 'votestream-bench' });
  const ends = await counter.endOffsets([topicNames(prefix).votes]).finally(() => counter.close());
  const produced = ends.reduce((sum, e) => sum + Number(e.offset), 0);
  if (produced !== accepted) throw new BenchmarkError('BENCHMARK_OUTPUT', `votes holds ${produced} records, the gateway answered 202 to ${accepted}`);

  const figures: Record<string, number | string> = {};
  for (const mode of ['kafka', 'bare'] as const) {
    const rs = results.filter((r) => r.mode === mode);
    const best = rs.reduce((a, b) => ((a.statuses.get(202) ?? 0) / a.elapsedS >= (b.statuses.get(202) ?? 0) / b.elapsedS ? a : b));
    const ok = best.statuses.get(202) ?? 0;
    const label = mode === 'kafka' ? 'with Kafka acks' : 'bare (no produce)';
    figures[`${label}: accepted votes/s`] = Math.round(ok / best.elapsedS);
    figures[`${label}: p50 ms`] = Math.round(best.latencyUs.p50 / 10) / 100;
    figures[`${label}: p99 ms`] = Math.round(best.latencyUs.p99 / 10) / 100;
    figures[`${label}: max ms`] = Math.round(best.latencyUs.max / 10) / 100;
    figures[`${label}: gateway CPU µs per vote`] = ok === 0 ? 0 : Math.round((best.cpuS * 1e6) / ok);
    figures[`${label}: answers other than 202`] = best.completed - ok;
  }
  figures['full / bare accepted votes/s'] = Math.round((Number(figures['with Kafka acks: accepted votes/s']) / Number(figures['bare (no produce): accepted votes/s'])) * 100) / 100;
  return {
    benchmark: 'gateway',
    command: o.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    parameters: { rate: o.rate, durationS: o.durationS, connections: o.connections, voters: o.voters, rounds: o.rounds, partitions: o.partitions, load: 'open loop (wrk2-style schedule, latency from intended send), node:http keep-alive, same machine' },
    figures,
  };
}
