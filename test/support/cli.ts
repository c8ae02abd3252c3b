/** The built CLI (`npm test` builds dist/ first), run as an operator runs it. */
import { execFile, spawnSync } from 'node:child_process';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliServices {
  readonly brokers?: string;
  readonly redis?: string;
  readonly dynamodbEndpoint?: string;
  readonly prefix?: string;
}

/** The environment a command reads its services from; LOG_LEVEL warn keeps stderr for errors. */
export function cliEnv(s: CliServices, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOG_LEVEL: 'warn',
    ...(s.brokers !== undefined ? { KAFKA_BROKERS: s.brokers } : {}),
    ...(s.redis !== undefined ? { REDIS_URL: s.redis } : {}),
    ...(s.dynamodbEndpoint !== undefined ? { DYNAMODB_ENDPOINT: s.dynamodbEndpoint } : {}),
    ...(s.prefix !== undefined ? { VOTESTREAM_TOPIC_PREFIX: s.prefix } : {}),
    ...more,
  };
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv({}), timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', env, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As runCli, without blocking the event loop: for commands that talk to a server this test process runs. */
export function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv({}), timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error);
      resolve({ status: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}
