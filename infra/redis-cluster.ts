import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../runtime/errors.js';
import { redisClusterInfo, redisClusterLinksUp } from './health.js';
import { runCommand } from './run-command.js';
import type { StackConfig } from './stack-config.js';

const CLUSTER_OK_TIMEOUT_MS = 60_000;

function nodeUrls(config: StackConfig): string[] {
  return config.redis.ports.map((p) => `redis://${config.redis.host}:${p}`);
}

/** Every node answers, reports `cluster_state:ok` with all 16384 slots assigned, and reaches every other node over the cluster bus. */
export async function redisClusterOk(config: StackConfig): Promise<boolean> {
  const urls = nodeUrls(config);
  const infos = await Promise.all(urls.map((url) => redisClusterInfo(url)));
  if (!infos.every((info) => info?.get('cluster_state') === 'ok' && info.get('cluster_slots_assigned') === '16384')) return false;
  return (await Promise.all(urls.map((url) => redisClusterLinksUp(url, urls.length)))).every(Boolean);
}

/**
 * Joins fresh nodes into one cluster of masters (no replicas: each node's AOF is its durability,
 * as for the single node), once: nodes that already hold slots come back from their nodes.conf.
 * Then waits until every node reports the cluster ok.
 */
export async function ensureRedisCluster(config: StackConfig, log: (msg: string) => void): Promise<void> {
  const infos = await Promise.all(nodeUrls(config).map((url) => redisClusterInfo(url)));
  if (infos.every((info) => info?.get('cluster_slots_assigned') === '0' && info.get('cluster_known_nodes') === '1')) {
    const nodes = config.redis.ports.map((p) => `${config.redis.host}:${p}`);
    log(`creating the Redis cluster of ${nodes.join(', ')}`);
    const r = await runCommand('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    if (r.status !== 0) throw new ServiceUnavailableError(`redis-cli --cluster create failed (exit ${r.status}):\n${r.output}`);
  }
  await waitRedisClusterOk(config);
}

export async function waitRedisClusterOk(config: StackConfig, timeoutMs = CLUSTER_OK_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await redisClusterOk(config))) {
    if (Date.now() >= deadline) {
      const states = await Promise.all(nodeUrls(config).map(async (url) => `${url}: ${(await redisClusterInfo(url))?.get('cluster_state') ?? 'no answer'}`));
      throw new ServiceUnavailableError(`the Redis cluster did not report ok within ${timeoutMs / 1000}s (${states.join(', ')})`);
    }
    await sleep(250);
  }
}
