/**
 * The system under test, started as an operator would: the built CLI, one process per stage so that
 * each stage's CPU can be read apart (worker --roles dedup, count, persist), the feed, and with
 * --via http the gateway. Resolves once every worker has its partitions and the servers answer
 * /readyz, so the load does not start against a pipeline still joining its groups.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessingGuarantee } from '../../runtime/streams-config.js';
import { ConfigError } from '../../runtime/errors.js';
import { BenchmarkError } from '../errors.js';
import { startBenchProcess, stopBenchWorkers, type BenchWorker, type LogLine } from '../worker-processes.js';
import type { Stage } from './run-report.js';

export interface PipelineOptions {
  readonly brokers: string;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly prefix: string;
  readonly guarantee: ProcessingGuarantee;
  readonly partitions: number;
  readonly withGateway: boolean;
  /** HS256 secret for the gateway (given in its environment, never in its arguments). */
  readonly tokenSecret?: string;
  readonly readyTimeoutMs?: number;
  readonly onError?: (name: string, line: LogLine) => void;
}

export interface PipelineProcess {
  readonly name: string;
  readonly stage: Stage;
  readonly process: BenchWorker;
  /** A worker's Prometheus endpoint, once it has logged it. */
  readonly metricsUrl?: string;
}

export interface Pipeline {
  readonly processes: readonly PipelineProcess[];
  readonly feedUrl: string;
  readonly gatewayUrl?: string;
  /** Rejects as soon as one process exits while it should run. */
  readonly died: Promise<never>;
  stop(): Promise<void>;
}

const WORKER_STAGES = ['dedup', 'count', 'persist'] as const;

export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const stateDir = mkdtempSync(join(tmpdir(), 'votestream-bench-run-'));
  const env = { KAFKA_BROKERS: o.brokers, REDIS_URL: o.redis, DYNAMODB_ENDPOINT: o.dynamodbEndpoint, VOTESTREAM_TOPIC_PREFIX: o.prefix, LOG_LEVEL: 'info' };
  const processes: PipelineProcess[] = [];
  const waits: Array<Promise<void>> = [];
  const errorWatch = (name: string) => (line: LogLine) => {
    if (Number(line.level ?? 0) >= 50) o.onError?.(name, line);
  };
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    // Newest first: the gateway and feed, then the sinks, then dedup.
    await stopBenchWorkers(processes.map((p) => p.process).reverse());
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    for (const stage of WORKER_STAGES) {
      let assigned = 0;
      let resolveAssigned!: () => void;
      waits.push(new Promise<void>((r) => (resolveAssigned = r)));
      let metricsUrl: string | undefined;
      const child = startBenchProcess({
        name: `worker ${stage}`,
        args: ['worker', '--roles', stage, '--processes', '1', '--state-dir', join(stateDir, stage), '--processing-guarantee', o.guarantee, '--instance-id', `${o.prefix}${stage}`, '--metrics-port', '0'],
        env,
        onLog: (line) => {
          errorWatch(`worker ${stage}`)(line);
          if (line.msg === 'metrics served' && typeof line.url === 'string') metricsUrl = line.url;
          if (line.msg === 'partitions assigned' && Array.isArray(line.assigned)) {
            assigned += line.assigned.length;
            // One process per stage: it holds every partition of its input once assigned.
            if (assigned >= o.partitions) resolveAssigned();
          }
        },
      });
      processes.push({
        name: `worker --roles ${stage}`,
        stage,
        process: child,
        get metricsUrl() {
          return metricsUrl;
        },
      });
    }
    let feedUrl = '';
    let gatewayUrl: string | undefined;
    const server = (name: 'feed' | 'gateway', args: readonly string[], extraEnv: NodeJS.ProcessEnv): void => {
      let resolveUrl!: (url: string) => void;
      const url = new Promise<string>((r) => (resolveUrl = r));
      const child = startBenchProcess({
        name,
        args: [name, '--host', '127.0.0.1', '--port', '0', ...args],
        env: { ...env, ...extraEnv },
        onLog: errorWatch(name),
        onStdout: (line) => {
          const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(line);
          if (m !== null) resolveUrl(m[1]);
        },
      });
      processes.push({ name, stage: name, process: child });
      waits.push(
        url.then(async (u) => {
          if (name === 'feed') feedUrl = u;
          else gatewayUrl = u;
          await untilReady(`${u}/readyz`, o.readyTimeoutMs ?? 120_000);
        }),
      );
    };
    server('feed', ['--max-connections-per-ip', '1000'], {});
    if (o.withGateway) {
      if (o.tokenSecret === undefined) throw new ConfigError('the gateway needs a token secret');
      // The load comes from one address and a few voters at most once a second each: limits that
      // protect an election from abuse would measure the limiter, not the pipeline.
      server('gateway', ['--ip-rate', '1e9', '--ip-burst', '1e9', '--voter-rate', '1e9', '--voter-burst', '1000000000', '--max-in-flight', '100000'], { VOTESTREAM_TOKEN_SECRET: o.tokenSecret });
    }
    const died = new Promise<never>((_, reject) => {
      for (const p of processes) {
        void p.process.exited.then((code) => {
          if (stopping) return;
          reject(new BenchmarkError('BENCHMARK_WORKER_EXITED', `${p.name} (pid ${p.process.pid}) exited with code ${code}; last log lines:\n${p.process.tail().map((l) => JSON.stringify(l)).join('\n')}`));
        });
      }
    });
    died.catch(() => undefined);
    const timeoutMs = o.readyTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BenchmarkError('BENCHMARK_TIMEOUT', `the pipeline was not ready within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(waits), died, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { processes, feedUrl, ...(gatewayUrl !== undefined ? { gatewayUrl } : {}), died, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `url` until it answers 200 (a server's /readyz). */
export async function untilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body.slice(0, 300)}`;
    } catch (error) {
      last = `not listening (${(error as Error).message})`;
    }
    if (Date.now() > deadline) throw new BenchmarkError('BENCHMARK_TIMEOUT', `${url} did not answer 200 within ${timeoutMs} ms; last: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
