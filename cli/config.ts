import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { KAFKA_DRIVERS } from '../runtime/kafka/create-driver.js';
import { STACK_DEFAULTS } from '../infra/stack-config.js';
import { isRedisClusterUrl, parseRedisClusterUrl, REDIS_CLUSTER_SCHEME } from '../sinks/redis-client.js';

/**
 * Service addresses and common settings, resolved flags > environment > config file > defaults
 * (DESIGN section 6). Where an address comes from anywhere but the defaults, the user runs that
 * service: the local stack neither starts nor stops it.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const url = (protocols: readonly string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/**
 * A single-node URL (`redis:`, `rediss:`), or a Redis Cluster's seed nodes
 * (`redis+cluster://host:port[,host:port...]`, sinks/redis-client.ts), checked as the client reads them.
 */
const redisAddress = z.string().superRefine((s, ctx) => {
  if (isRedisClusterUrl(s)) {
    try {
      parseRedisClusterUrl(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
    return;
  }
  const single = url(['redis:', 'rediss:']).safeParse(s);
  if (!single.success) ctx.addIssue({ code: 'custom', message: `must be a URL starting with redis:// or rediss://, or ${REDIS_CLUSTER_SCHEME}//host:port[,host:port...]` });
});

const hostPortList = z
  .string()
  .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'must be host:port[,host:port...]');

export const configSchema = z
  .object({
    brokers: hostPortList,
    driver: z.enum(KAFKA_DRIVERS),
    redis: redisAddress,
    dynamodbEndpoint: url(['http:', 'https:']),
    logLevel: z.enum(LOG_LEVELS),
    topicPrefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"'),
  })
  .strict();

export type VotestreamConfig = z.infer<typeof configSchema>;
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';
export interface ResolvedConfig extends VotestreamConfig {
  readonly sources: Record<keyof VotestreamConfig, ConfigSource>;
}

export const CONFIG_DEFAULTS: VotestreamConfig = {
  brokers: `127.0.0.1:${STACK_DEFAULTS.kafkaPort}`,
  driver: 'platformatic',
  redis: `redis://127.0.0.1:${STACK_DEFAULTS.redisPort}`,
  dynamodbEndpoint: `http://127.0.0.1:${STACK_DEFAULTS.dynamodbPort}`,
  logLevel: 'info',
  topicPrefix: '',
};

export const CONFIG_ENV: Record<keyof VotestreamConfig, string> = {
  brokers: 'KAFKA_BROKERS',
  driver: 'KAFKA_DRIVER',
  redis: 'REDIS_URL',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  logLevel: 'LOG_LEVEL',
  topicPrefix: 'VOTESTREAM_TOPIC_PREFIX',
};

function readConfigFile(path: string): Partial<Record<string, unknown>> {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} is not valid JSON: not a JSON object`);
  return parsed as Record<string, unknown>;
}

export function resolveConfig(
  flags: Partial<Record<keyof VotestreamConfig, unknown>>,
  options: { env?: NodeJS.ProcessEnv; configFile?: string } = {},
): ResolvedConfig {
  const env = options.env ?? process.env;
  const file = options.configFile !== undefined ? readConfigFile(options.configFile) : {};
  const unknownKeys = Object.keys(file).filter((k) => !(k in CONFIG_DEFAULTS));
  if (unknownKeys.length > 0) {
    throw new ConfigError(`config file ${options.configFile}: unknown key(s) ${unknownKeys.join(', ')}; known: ${Object.keys(CONFIG_DEFAULTS).join(', ')}`);
  }
  const merged: Record<string, unknown> = {};
  const sources = {} as Record<keyof VotestreamConfig, ConfigSource>;
  for (const key of Object.keys(CONFIG_DEFAULTS) as (keyof VotestreamConfig)[]) {
    const envValue = env[CONFIG_ENV[key]];
    if (flags[key] !== undefined) [merged[key], sources[key]] = [flags[key], 'flag'];
    else if (envValue !== undefined && envValue !== '') [merged[key], sources[key]] = [envValue, 'env'];
    else if (file[key] !== undefined) [merged[key], sources[key]] = [file[key], 'file'];
    else [merged[key], sources[key]] = [CONFIG_DEFAULTS[key], 'default'];
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') as keyof VotestreamConfig;
      const where = sources[key] === 'flag' ? `--${kebab(key)}` : sources[key] === 'env' ? CONFIG_ENV[key] : sources[key] === 'file' ? `"${key}" in ${options.configFile}` : key;
      return `  - ${where}: ${issue.message} (got ${JSON.stringify(merged[key])})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, sources };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
