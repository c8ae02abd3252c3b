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
      // No persistence: the read model is rebuilt from DynamoDB (`votestream rebuild redis`).
      return {
        command: 'redis-server',
        args: ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no'],
      };
    },
  };
}
