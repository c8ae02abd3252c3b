import { spawn, type ChildProcess } from 'node:child_process';

export interface WorkerHandle {
  readonly child: ChildProcess;
  /** Every JSON log line the worker wrote so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `votestream worker` (the built CLI) as a child process, as an operator would. */
export function startWorker(options: {
  brokers: string;
  prefix: string;
  stateDir: string;
  instanceId: string;
  extraArgs?: string[];
  /** More environment, e.g. REDIS_URL and DYNAMODB_ENDPOINT of the services the sinks write to. */
  env?: NodeJS.ProcessEnv;
}): WorkerHandle {
  const child = spawn(
    process.execPath,
    ['dist/cli/main.js', 'worker', '--state-dir', options.stateDir, '--metrics-port', '0', '--instance-id', options.instanceId, ...(options.extraArgs ?? [])],
    {
      env: { ...process.env, KAFKA_BROKERS: options.brokers, VOTESTREAM_TOPIC_PREFIX: options.prefix, LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  const waiters: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { msg: line, unparsed: true };
      }
      logs.push(parsed);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].predicate(parsed)) {
          waiters[i].resolve(parsed);
          waiters.splice(i, 1);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    exited,
    waitForLog(predicate, timeoutMs = 60_000) {
      const found = logs.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker log not seen within ${timeoutMs} ms; last lines:\n${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/** A worker's `/metrics` address, from its 'metrics served' log line (its port is picked by the OS). */
export async function metricsUrl(w: WorkerHandle): Promise<string> {
  const line = await w.waitForLog((l) => l.msg === 'metrics served', 60_000);
  return String(line.url).replace('//0.0.0.0:', '//127.0.0.1:');
}

/** One Prometheus sample: its metric name, labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Scrapes a worker's `/metrics` now. */
export async function scrapeMetrics(w: WorkerHandle): Promise<Sample[]> {
  const r = await fetch(await metricsUrl(w));
  if (!r.ok) throw new Error(`GET /metrics answered ${r.status}`);
  return parseMetrics(await r.text());
}

/** The sum of a metric's samples whose labels include `labels`; 0 when none exists yet. */
export function metricSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

export async function stopWorker(w: WorkerHandle, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.exitCode;
  w.child.kill(signal);
  return w.exited;
}
