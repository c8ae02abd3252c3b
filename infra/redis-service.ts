import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { redisHealthy } from './health.js';
import type { LocalService } from './local-service.js';
import { REDIS_SERVER, requirePrerequisites } from './prerequisites.js';
import type { StackConfig } from './stack-config.js';

export interface RedisServiceOptions {
  /** 0-based index into `config.redis.ports`; the single node is 0. */
  readonly index?: number;
  /** Delete the node's append-only files before it starts: a restart that loses everything (chaos tests). */
  readonly wipe?: boolean;
}

/** The node's directory and name: `redis` alone, `redis-<i>` in a cluster. */
export function redisNodeName(config: StackConfig, index: number): string {
  return config.layout.redisCluster ? `redis-${index + 1}` : 'redis';
}

/** Every Redis node of the stack: one server, or the cluster's masters. */
export function redisServices(config: StackConfig): LocalService[] {
  return config.redis.ports.map((_, index) => redisService(config, { index }));
}

export function redisService(config: StackConfig, options: RedisServiceOptions = {}): LocalService {
  const index = options.index ?? 0;
  const name = redisNodeName(config, index);
  const dir = join(config.dataDir, name);
  const { host } = config.redis;
  const port = config.redis.ports[index];
  const address = `redis://${host}:${port}`;
  return {
    name,
    service: 'redis',
    address,
    pidFile: join(dir, 'redis.pid'),
    logFile: join(dir, 'redis.log'),
    startTimeoutMs: 15_000,
    healthy: () => redisHealthy(address),
    prepare() {
      requirePrerequisites([REDIS_SERVER]);
      if (options.wipe === true) {
        // Redis 7 keeps the AOF in appendonlydir/; an old RDB would be loaded in its place.
        rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
        rmSync(join(dir, 'dump.rdb'), { force: true });
      }
      mkdirSync(dir, { recursive: true });
      // AOF with fsync every second (DESIGN section 5): a restart keeps the counts, and a kill -9 loses
      // at most the last second, as a prefix of the log, watermark included, so the count sink sees the
      // rollback and the task replays exactly what was lost. VOTESTREAM_REDIS_AOF=no turns it off (a
      // restart then empties Redis, which the count sink also detects, at the cost of a full replay).
      const aof = process.env.VOTESTREAM_REDIS_AOF !== 'no';
      // A cluster node keeps its view of the cluster (ids, slots, peers) in nodes.conf, so a restarted
      // node rejoins as the master of the slots it had.
      const cluster = config.layout.redisCluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'] : [];
      return {
        command: 'redis-server',
        args: [
          '--bind', host, '--port', String(port), '--save', '',
          '--appendonly', aof ? 'yes' : 'no', ...(aof ? ['--appendfsync', 'everysec'] : []),
          '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no',
          ...cluster,
        ],
      };
    },
  };
}
