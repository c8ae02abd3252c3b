import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redisHealthy } from './health.js';
import type { LocalService } from './local-service.js';
import { REDIS_SERVER, requirePrerequisites } from './prerequisites.js';
import type { StackConfig } from './stack-config.js';

export function redisService(config: StackConfig): LocalService {
  const dir = join(config.dataDir, 'redis');
  const { host, port } = config.redis;
  const address = `redis://${host}:${port}`;
  return {
    name: 'redis',
    address,
    pidFile: join(dir, 'redis.pid'),
    logFile: join(dir, 'redis.log'),
    startTimeoutMs: 15_000,
    healthy: () => redisHealthy(address),
    prepare() {
      requirePrerequisites([REDIS_SERVER]);
      mkdirSync(dir, { recursive: true });
      // AOF with fsync every second (DESIGN section 5): a restart keeps the counts, and a kill -9 loses
      // at most the last second, as a prefix of the log, watermark included, so the count sink sees the
      // rollback and the task replays exactly what was lost. VOTESTREAM_REDIS_AOF=no turns it off (a
      // restart then empties Redis, which the count sink also detects, at the cost of a full replay).
      const aof = process.env.VOTESTREAM_REDIS_AOF !== 'no';
      return {
        command: 'redis-server',
        args: [
          '--bind', host, '--port', String(port), '--save', '',
          '--appendonly', aof ? 'yes' : 'no', ...(aof ? ['--appendfsync', 'everysec'] : []),
          '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no',
        ],
      };
    },
  };
}
