import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../runtime/errors.js';
import { dynamodbService } from './dynamodb-service.js';
import { kafkaService } from './kafka-service.js';
import type { LocalService } from './local-service.js';
import { runningPid, startDetached, stopProcess } from './managed-process.js';
import { redisService } from './redis-service.js';
import type { StackConfig } from './stack-config.js';

export type ServiceName = LocalService['name'];
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'redis', 'dynamodb'];

export interface ServiceStatus {
  readonly address: string;
  readonly healthy: boolean;
  /** Started by this stack (pid file) rather than found already running. */
  readonly managed: boolean;
  readonly pid?: number;
}
export type StackStatus = Record<ServiceName, ServiceStatus>;

export interface ServiceUpResult extends ServiceStatus {
  readonly action: 'started' | 'reused' | 'external';
  readonly ms: number;
}

export interface StackOptions {
  /** Services whose address was given by the user: never started or stopped, only checked. */
  readonly external?: Partial<Record<ServiceName, string>>;
  readonly log?: (msg: string) => void;
  /**
   * Told as soon as a service is launched, before it is healthy: a caller interrupted while the
   * stack comes up can still stop exactly what it started.
   */
  readonly onStarted?: (name: ServiceName, pid: number) => void;
}

function services(config: StackConfig, log: (msg: string) => void): LocalService[] {
  return [kafkaService(config, log), redisService(config), dynamodbService(config)];
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
}

async function waitHealthy(svc: LocalService, pid: number | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await svc.healthy()) return;
    if (pid !== undefined && runningPid(svc.pidFile) === undefined) {
      throw new ServiceUnavailableError(`${svc.name} exited while starting; last lines of ${svc.logFile}:\n${tail(svc.logFile, 25)}`);
    }
    await sleep(250);
  }
  throw new ServiceUnavailableError(
    `${svc.name} did not become healthy at ${svc.address} within ${timeoutMs / 1000}s; last lines of ${svc.logFile}:\n${tail(svc.logFile, 25)}`,
  );
}

async function upOne(svc: LocalService, external: string | undefined, onStarted: StackOptions['onStarted']): Promise<ServiceUpResult> {
  const t0 = Date.now();
  if (external !== undefined) {
    const healthy = await externalHealth(svc.name, external);
    if (!healthy) throw new ServiceUnavailableError(`${svc.name} at ${external} (given by configuration) does not answer`);
    return { action: 'external', address: external, healthy, managed: false, ms: Date.now() - t0 };
  }
  const existing = runningPid(svc.pidFile);
  if (existing !== undefined) {
    await waitHealthy(svc, existing, svc.startTimeoutMs);
    return { action: 'reused', address: svc.address, healthy: true, managed: true, pid: existing, ms: Date.now() - t0 };
  }
  if (await svc.healthy()) {
    // Something we did not start answers on our port (another checkout's stack, a system service):
    // use it, and never stop it.
    return { action: 'reused', address: svc.address, healthy: true, managed: false, ms: Date.now() - t0 };
  }
  const { command, args, cwd } = await svc.prepare();
  const pid = startDetached({ name: svc.name, command, args, cwd, pidFile: svc.pidFile, logFile: svc.logFile });
  onStarted?.(svc.name, pid);
  await waitHealthy(svc, pid, svc.startTimeoutMs);
  return { action: 'started', address: svc.address, healthy: true, managed: true, pid, ms: Date.now() - t0 };
}

async function externalHealth(name: ServiceName, address: string): Promise<boolean> {
  const health = await import('./health.js');
  if (name === 'kafka') return health.kafkaHealthy(address);
  if (name === 'redis') return health.redisHealthy(address);
  return health.dynamodbHealthy(address);
}

/** Brings every service up (in parallel) and resolves when all are healthy. Idempotent. */
export async function stackUp(config: StackConfig, options: StackOptions = {}): Promise<Record<ServiceName, ServiceUpResult>> {
  const log = options.log ?? (() => undefined);
  const list = services(config, log);
  const results = await Promise.allSettled(list.map((svc) => upOne(svc, options.external?.[svc.name], options.onStarted)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${list[i].name}: ${(r.reason as Error).message}`] : []));
  if (failures.length > 0) throw new ServiceUnavailableError(`stack up failed:\n${failures.join('\n')}`);
  return Object.fromEntries(
    results.map((r, i) => [list[i].name, (r as PromiseFulfilledResult<ServiceUpResult>).value]),
  ) as Record<ServiceName, ServiceUpResult>;
}

/** Stops only what this stack started (pid files); returns which services were stopped. */
export async function stackDown(config: StackConfig): Promise<Record<ServiceName, boolean>> {
  return stopServices(config, SERVICE_NAMES);
}

/**
 * Stops the named services if this stack started them (their pid files say so). `graceMs`
 * overrides the wait between SIGTERM and SIGKILL (0: kill at once, when the user insists).
 */
export async function stopServices(config: StackConfig, names: readonly ServiceName[], graceMs?: number): Promise<Record<ServiceName, boolean>> {
  const list = services(config, () => undefined).filter((svc) => names.includes(svc.name));
  // Kafka gets longer: a clean shutdown flushes its logs and avoids recovery on the next start.
  const stopped = await Promise.all(list.map((svc) => stopProcess(svc.pidFile, graceMs ?? (svc.name === 'kafka' ? 30_000 : 10_000))));
  const result = { kafka: false, redis: false, dynamodb: false };
  list.forEach((svc, i) => (result[svc.name] = stopped[i]));
  return result;
}

export async function stackStatus(config: StackConfig, options: StackOptions = {}): Promise<StackStatus> {
  const list = services(config, () => undefined);
  const entries = await Promise.all(
    list.map(async (svc): Promise<[ServiceName, ServiceStatus]> => {
      const external = options.external?.[svc.name];
      if (external !== undefined) return [svc.name, { address: external, healthy: await externalHealth(svc.name, external), managed: false }];
      const pid = runningPid(svc.pidFile);
      return [svc.name, { address: svc.address, healthy: await svc.healthy(), managed: pid !== undefined, ...(pid !== undefined ? { pid } : {}) }];
    }),
  );
  return Object.fromEntries(entries) as StackStatus;
}

export function stackLogFiles(config: StackConfig): Record<ServiceName, string> {
  const list = services(config, () => undefined);
  return Object.fromEntries(list.map((svc) => [svc.name, svc.logFile])) as Record<ServiceName, string>;
}

export { tail as tailFile };
