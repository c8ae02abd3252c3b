import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../runtime/errors.js';
import { dynamodbService } from './dynamodb-service.js';
import { kafkaServices } from './kafka-service.js';
import type { LocalService, ServiceName } from './local-service.js';
import { isAlive, runningPid } from './managed-process.js';
import { redisClusterOk, waitRedisClusterOk } from './redis-cluster.js';
import { redisService, redisServices } from './redis-service.js';
import { launch, waitHealthy } from './service-launch.js';
import type { StackConfig } from './stack-config.js';

/** One process of the stack, for tests and tools that fail nodes one at a time (chaos). */
export interface StackNode {
  /** 'kafka-1'.. and 'redis-1'.. in the replicated layout; 'kafka', 'redis' for single nodes; 'dynamodb'. */
  readonly name: string;
  readonly service: ServiceName;
  /** `host:port` for a broker, `redis://host:port` for a Redis node, the endpoint URL for DynamoDB. */
  readonly address: string;
  readonly pidFile: string;
  readonly logFile: string;
}

export type NodeSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT';

export interface StartNodeOptions {
  /** Redis only: delete its append-only files first, so it comes back empty (a restart that loses data). */
  readonly wipe?: boolean;
}

/** Every node of the stack as LocalServices: the brokers, the Redis node(s), DynamoDB Local. */
export function stackServices(config: StackConfig, log: (msg: string) => void = () => undefined): LocalService[] {
  return [...kafkaServices(config, log), ...redisServices(config), dynamodbService(config)];
}

export function stackNodes(config: StackConfig): StackNode[] {
  return stackServices(config).map(({ name, service, address, pidFile, logFile }) => ({ name, service, address, pidFile, logFile }));
}

function nodeService(config: StackConfig, name: string, options: StartNodeOptions = {}): LocalService {
  const svc = stackServices(config).find((s) => s.name === name);
  if (svc === undefined) throw new ConfigError(`no node "${name}" in this stack (it has ${stackNodes(config).map((n) => n.name).join(', ')})`);
  if (options.wipe === true) {
    if (svc.service !== 'redis') throw new ConfigError(`wipe applies to Redis nodes only, not ${name}`);
    return redisService(config, { index: redisServices(config).findIndex((s) => s.name === name), wipe: true });
  }
  return svc;
}

/** How long killNode waits for a node to act on SIGTERM (a broker flushes its logs first). */
const TERM_WAIT_MS = 60_000;

/**
 * Signals the node's whole process group. After SIGKILL, and after SIGTERM once the node has
 * exited (it waits up to a minute), the pid file is removed, as a stop removes it, so startNode
 * starts the node again; after SIGSTOP/SIGCONT it stays (the node still runs). A paused node acts
 * on SIGTERM only after SIGCONT. Returns false when the node was not running (no live pid file).
 */
export async function killNode(config: StackConfig, name: string, signal: NodeSignal): Promise<boolean> {
  const svc = nodeService(config, name);
  const pid = runningPid(svc.pidFile);
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
  } catch {
    process.kill(pid, signal);
  }
  if (signal === 'SIGKILL' || signal === 'SIGTERM') {
    const deadline = Date.now() + TERM_WAIT_MS;
    while (isAlive(pid) && (signal === 'SIGKILL' || Date.now() < deadline)) await sleep(20);
    if (!isAlive(pid)) rmSync(svc.pidFile, { force: true });
  }
  return true;
}

/** The node answers; a Redis cluster node also needs the whole cluster ok (every slot served). */
export async function nodeHealthy(config: StackConfig, name: string): Promise<boolean> {
  const svc = nodeService(config, name);
  if (!(await svc.healthy())) return false;
  return svc.service === 'redis' && config.layout.redisCluster ? redisClusterOk(config) : true;
}

/**
 * Starts one stopped node again with its data (a broker rejoins the quorum with its log, a Redis
 * cluster node with its nodes.conf and AOF) and resolves when it is healthy, for a Redis cluster
 * node when the cluster is ok again. A node still running is only waited for.
 */
export async function startNode(config: StackConfig, name: string, options: StartNodeOptions = {}): Promise<void> {
  const svc = nodeService(config, name, options);
  const pid = runningPid(svc.pidFile) ?? (await launch(svc));
  await waitHealthy(svc, pid, svc.startTimeoutMs);
  if (svc.service === 'redis' && config.layout.redisCluster) await waitRedisClusterOk(config);
}
