/**
 * A private Redis Cluster (three masters, no replicas, AOF everysec) for the tests that kill or
 * flush its nodes: the Redis part of `stack up --redis-cluster`, in a temp data dir on the ports of
 * a port offset, started and failed with the stack's own functions (infra/stack-nodes.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureRedisCluster } from '../../infra/redis-cluster.js';
import { redisServices } from '../../infra/redis-service.js';
import { launch, waitHealthy } from '../../infra/service-launch.js';
import { stopServices } from '../../infra/stack.js';
import { stackConfig, redisAddress, type StackConfig } from '../../infra/stack-config.js';
import { killNode, startNode } from '../../infra/stack-nodes.js';

export interface OwnRedisCluster {
  readonly config: StackConfig;
  /** `redis+cluster://h:p,h:p,h:p`, as `stack up --redis-cluster` prints it. */
  readonly url: string;
  /** Each master's own `redis://` address, in node order. */
  readonly nodes: readonly string[];
  /** Stack node names (`redis-1`..), in the same order. */
  readonly names: readonly string[];
  /** The node (by index) serving `key`'s slot. */
  nodeOf(key: string): Promise<number>;
  /** kill -9 the node; resolves once it is gone. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again (its AOF wiped with `wipe`); resolves once the cluster is ok. */
  start(index: number, options?: { wipe?: boolean }): Promise<void>;
  /** kill, then start. */
  restart(index: number, options?: { wipe?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnRedisCluster(portOffset: number): Promise<OwnRedisCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-redis-cluster-'));
  const config = stackConfig({ dataDir, portOffset, redisCluster: true });
  const services = redisServices(config);
  const stop = async (): Promise<void> => {
    await stopServices(config, ['redis'], 0);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(services.map(async (svc) => waitHealthy(svc, await launch(svc), svc.startTimeoutMs)));
    await ensureRedisCluster(config, () => undefined);
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = services.map((s) => s.address);
  const kill = async (index: number): Promise<void> => {
    await killNode(config, services[index].name, 'SIGKILL');
  };
  const start = async (index: number, options: { wipe?: boolean } = {}): Promise<void> => {
    await startNode(config, services[index].name, { wipe: options.wipe === true });
  };
  return {
    config,
    url: redisAddress(config),
    nodes,
    names: services.map((s) => s.name),
    async nodeOf(key) {
      const probe = new Redis(nodes[0]);
      try {
        const slot = (await probe.call('CLUSTER', 'KEYSLOT', key)) as number;
        const ranges = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
        const range = ranges.find(([lo, hi]) => slot >= lo && slot <= hi);
        if (range === undefined) throw new Error(`no node serves slot ${slot}`);
        const port = range[2][1];
        return config.redis.ports.indexOf(port);
      } finally {
        probe.disconnect();
      }
    },
    kill,
    start,
    async restart(index, options = {}) {
      await kill(index);
      await start(index, options);
    },
    stop,
  };
}
