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

export async function stopWorker(w: WorkerHandle, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.exitCode;
  w.child.kill(signal);
  return w.exited;
}
