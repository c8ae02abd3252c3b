import { ServiceUnavailableError } from '../runtime/errors.js';
import { waitKafkaCoordinators } from './kafka-coordinators.js';
import type { LocalService, ServiceName } from './local-service.js';
import { runningPid, stopProcess } from './managed-process.js';
import { ensureRedisCluster, redisClusterOk } from './redis-cluster.js';
import { launch, tailFile, waitHealthy } from './service-launch.js';
import { kafkaAddress, redisAddress, type StackConfig } from './stack-config.js';
import { claimLayout } from './stack-layout.js';
import { stackServices } from './stack-nodes.js';

export type { ServiceName };
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'redis', 'dynamodb'];

export interface ServiceStatus {
  /** Kafka: the bootstrap list; Redis: `redis://…` or `redis+cluster://…` with every node. */
  readonly address: string;
  readonly healthy: boolean;
  /** Started by this stack (pid file) rather than found already running. */
  readonly managed: boolean;
  /** The first node's pid (the only one in the single-node layout). */
  readonly pid?: number;
}
export type StackStatus = Record<ServiceName, ServiceStatus>;

export interface ServiceUpResult extends ServiceStatus {
  /** 'started' when this call started any of the service's nodes (stopping it stops them all). */
  readonly action: 'started' | 'reused' | 'external';
  readonly ms: number;
}

export interface NodeStatus {
  readonly name: string;
  readonly service: ServiceName;
  readonly address: string;
  readonly healthy: boolean;
  readonly pid?: number;
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

/** The address clients use for the whole service. */
export function serviceAddress(config: StackConfig, service: ServiceName): string {
  if (service === 'kafka') return kafkaAddress(config);
  if (service === 'redis') return redisAddress(config);
  return `http://${config.dynamodb.host}:${config.dynamodb.port}`;
}

function nodesOf(config: StackConfig, service: ServiceName, log: (msg: string) => void = () => undefined): LocalService[] {
  return stackServices(config, log).filter((svc) => svc.service === service);
}

interface NodeUp {
  readonly action: 'started' | 'reused';
  readonly managed: boolean;
  readonly pid?: number;
}

async function upNode(svc: LocalService, onStarted: (pid: number) => void): Promise<NodeUp> {
  const existing = runningPid(svc.pidFile);
  if (existing !== undefined) {
    await waitHealthy(svc, existing, svc.startTimeoutMs);
    return { action: 'reused', managed: true, pid: existing };
  }
  if (await svc.healthy()) {
    // Something we did not start answers on our port (another checkout's stack, a system service):
    // use it, and never stop it.
    return { action: 'reused', managed: false };
  }
  const pid = await launch(svc);
  onStarted(pid);
  await waitHealthy(svc, pid, svc.startTimeoutMs);
  return { action: 'started', managed: true, pid };
}

async function upService(config: StackConfig, service: ServiceName, options: StackOptions, log: (msg: string) => void): Promise<ServiceUpResult> {
  const t0 = Date.now();
  const external = options.external?.[service];
  if (external !== undefined) {
    const healthy = await externalHealth(service, external);
    if (!healthy) throw new ServiceUnavailableError(`${service} at ${external} (given by configuration) does not answer`);
    return { action: 'external', address: external, healthy, managed: false, ms: Date.now() - t0 };
  }
  const nodes = nodesOf(config, service, log);
  // Brokers of one quorum must start together: none is healthy until a majority of voters runs.
  const settled = await Promise.allSettled(nodes.map((svc) => upNode(svc, (pid) => options.onStarted?.(service, pid))));
  const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [`${nodes[i].name}: ${(r.reason as Error).message}`] : []));
  if (failures.length > 0) throw new ServiceUnavailableError(failures.join('\n'));
  const ups = settled.map((r) => (r as PromiseFulfilledResult<NodeUp>).value);
  if (service === 'redis' && config.layout.redisCluster) await ensureRedisCluster(config, log);
  if (service === 'kafka' && nodes.length > 1) await waitKafkaCoordinators(kafkaAddress(config));
  const first = ups[0];
  return {
    action: ups.some((u) => u.action === 'started') ? 'started' : 'reused',
    address: nodes.length === 1 ? nodes[0].address : serviceAddress(config, service),
    healthy: true,
    managed: ups.every((u) => u.managed),
    ...(first.pid !== undefined ? { pid: first.pid } : {}),
    ms: Date.now() - t0,
  };
}

async function externalHealth(name: ServiceName, address: string): Promise<boolean> {
  const health = await import('./health.js');
  if (name === 'kafka') return health.kafkaHealthy(address);
  if (name === 'redis') return health.redisHealthy(address);
  return health.dynamodbHealthy(address);
}

/**
 * Brings every service up (in parallel) and resolves when all are healthy. Idempotent. Refuses a
 * layout (brokers, Redis cluster) other than the one the data directory holds.
 */
export async function stackUp(config: StackConfig, options: StackOptions = {}): Promise<Record<ServiceName, ServiceUpResult>> {
  const log = options.log ?? (() => undefined);
  claimLayout(config);
  const results = await Promise.allSettled(SERVICE_NAMES.map((service) => upService(config, service, options, log)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${SERVICE_NAMES[i]}: ${(r.reason as Error).message}`] : []));
  if (failures.length > 0) throw new ServiceUnavailableError(`stack up failed:\n${failures.join('\n')}`);
  return Object.fromEntries(
    results.map((r, i) => [SERVICE_NAMES[i], (r as PromiseFulfilledResult<ServiceUpResult>).value]),
  ) as Record<ServiceName, ServiceUpResult>;
}

/** Stops only what this stack started (pid files); returns which services were stopped. */
export async function stackDown(config: StackConfig): Promise<Record<ServiceName, boolean>> {
  return stopServices(config, SERVICE_NAMES);
}

/**
 * Stops every node of the named services that this stack started (their pid files say so).
 * `graceMs` overrides the wait between SIGTERM and SIGKILL (0: kill at once, when the user
 * insists). A service counts as stopped when any of its nodes was.
 */
export async function stopServices(config: StackConfig, names: readonly ServiceName[], graceMs?: number): Promise<Record<ServiceName, boolean>> {
  const list = stackServices(config).filter((svc) => names.includes(svc.service));
  // Kafka gets longer: a clean shutdown flushes its logs and avoids recovery on the next start.
  const stopped = await Promise.all(list.map((svc) => stopProcess(svc.pidFile, graceMs ?? (svc.service === 'kafka' ? 30_000 : 10_000))));
  const result = { kafka: false, redis: false, dynamodb: false };
  list.forEach((svc, i) => (result[svc.service] ||= stopped[i]));
  return result;
}

/** Health of each node (pid when ours). */
export async function stackNodeStatus(config: StackConfig): Promise<NodeStatus[]> {
  return Promise.all(
    stackServices(config).map(async (svc): Promise<NodeStatus> => {
      const pid = runningPid(svc.pidFile);
      return { name: svc.name, service: svc.service, address: svc.address, healthy: await svc.healthy(), ...(pid !== undefined ? { pid } : {}) };
    }),
  );
}

/** Health of each service: every node answers, and a Redis cluster reports `cluster_state:ok`. */
export async function stackStatus(config: StackConfig, options: StackOptions = {}): Promise<StackStatus> {
  const nodes = await stackNodeStatus(config);
  const clusterOk = config.layout.redisCluster ? await redisClusterOk(config) : true;
  const entries = await Promise.all(
    SERVICE_NAMES.map(async (service): Promise<[ServiceName, ServiceStatus]> => {
      const external = options.external?.[service];
      if (external !== undefined) return [service, { address: external, healthy: await externalHealth(service, external), managed: false }];
      const mine = nodes.filter((n) => n.service === service);
      const healthy = mine.every((n) => n.healthy) && (service !== 'redis' || clusterOk);
      const pid = mine[0].pid;
      return [
        service,
        {
          address: mine.length === 1 ? mine[0].address : serviceAddress(config, service),
          healthy,
          managed: mine.every((n) => n.pid !== undefined),
          ...(pid !== undefined ? { pid } : {}),
        },
      ];
    }),
  );
  return Object.fromEntries(entries) as StackStatus;
}

/** The log file of every node, by node name ('kafka' or 'kafka-1'.., 'redis'.., 'dynamodb'). */
export function stackLogFiles(config: StackConfig): Record<string, string> {
  return Object.fromEntries(stackServices(config).map((svc) => [svc.name, svc.logFile]));
}

export { tailFile };
