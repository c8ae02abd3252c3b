/**
 * The @kafkats/flow dedup peer (benchmarks/peers/kafkats-flow/dedup-app.ts) as a child process for
 * benchmarks and tests: started from the built file, its JSON log lines watched, and always stopped:
 * by SIGTERM, then SIGKILL after a grace period, and by SIGKILL when this process exits or is
 * interrupted (as benchmarks/worker-processes.ts does for our workers), so no peer outlives its run.
 */
import { killWithParent } from '../child-guard.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessStartError } from '../../infra/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { kafkatsFlowApplicationId } from './kafkats-flow/names.js';

export interface KafkatsFlowPeer {
  readonly pid: number;
  /** The consumer group whose committed offsets on `<prefix>votes` show the peer's progress. */
  readonly groupId: string;
  readonly exited: Promise<number | null>;
  /** The last log lines (JSON text), for error messages. */
  tail(): string[];
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface KafkatsFlowPeerOptions {
  readonly brokers: string;
  readonly prefix: string;
  /** Unused by the peer (flow keeps its stores in memory and restores them from their changelogs); kept for parity with our workers. */
  readonly stateDir: string;
  readonly logger: Logger;
  /** Resolves once the peer logged "running"; default true. */
  readonly waitUntilRunning?: boolean;
  readonly commitIntervalMs?: number;
  /** Names the peer's transactional id; a restart with the same one fences its predecessor. Default i0. */
  readonly instanceId?: string;
}

/** Flow uses the application id as the group id of all its sources. */
export function kafkatsFlowGroupId(prefix: string): string {
  return kafkatsFlowApplicationId(prefix);
}

/** The built peer, from dist/ whether this module runs built (dist/benchmarks/peers) or from source (vitest). */
function peerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'kafkats-flow', 'dedup-app.js');
  if (existsSync(built)) return built;
  const fromSource = resolve(here, '..', '..', 'dist', 'benchmarks', 'peers', 'kafkats-flow', 'dedup-app.js');
  if (existsSync(fromSource)) return fromSource;
  throw new ProcessStartError(`the built flow peer is missing (looked for ${built} and ${fromSource}): run npm run build`);
}

export async function startKafkatsFlowPeer(o: KafkatsFlowPeerOptions): Promise<KafkatsFlowPeer> {
  const groupId = kafkatsFlowGroupId(o.prefix);
  const log = o.logger.child({ peer: 'kafkats-flow', prefix: o.prefix });
  const child = spawn(process.execPath, [peerScript(), '--brokers', o.brokers, '--prefix', o.prefix, '--application-id', groupId, ...(o.commitIntervalMs !== undefined ? ['--commit-interval-ms', String(o.commitIntervalMs)] : []), ...(o.instanceId !== undefined ? ['--instance-id', o.instanceId] : [])], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new ProcessStartError('could not start the kafkats-flow peer');
  const pid = child.pid;
  killWithParent(child);
  const tail: string[] = [];
  let running!: () => void;
  const isRunning = new Promise<void>((r) => (running = r));
  let buffer = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const text of lines) {
      if (text.length === 0) continue;
      tail.push(text);
      if (tail.length > 30) tail.shift();
      let line: Record<string, unknown> | undefined;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = undefined;
      }
      if (line?.msg === 'running') running();
      if (line === undefined || Number(line.level) >= 50) log.warn({ line: line ?? text }, 'peer logged an error');
    }
  });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      r(code);
    }),
  );
  const stop = async (graceMs = 20_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  log.info({ pid, groupId }, 'peer started');
  if (o.waitUntilRunning !== false) {
    const died = exited.then((code) => {
      throw new ProcessStartError(`the kafkats-flow peer exited with code ${code} before running; last log lines:\n${tail.join('\n')}`);
    });
    await Promise.race([isRunning, died]);
    died.catch(() => undefined);
  }
  return { pid, groupId, exited, tail: () => [...tail], stop };
}
