import { join, resolve } from 'node:path';

/** Addresses and places of the local stack (DESIGN section 6). */
export interface StackConfig {
  /** Where data, logs, pid files and generated configs go. */
  readonly dataDir: string;
  /** Where downloaded artifacts (the Kafka jars) are cached across runs and clones. */
  readonly cacheDir: string;
  readonly kafka: { readonly host: string; readonly port: number; readonly controllerPort: number; readonly heapMb: number };
  readonly redis: { readonly host: string; readonly port: number };
  readonly dynamodb: { readonly host: string; readonly port: number; readonly persist: boolean };
}

export const STACK_DEFAULTS = {
  kafkaPort: 19092,
  kafkaControllerPort: 19093,
  redisPort: 16379,
  dynamodbPort: 18000,
} as const;

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache');
  return process.env.VOTESTREAM_CACHE_DIR ?? join(base, 'votestream');
}

export interface StackOverrides {
  readonly dataDir?: string;
  readonly persist?: boolean;
  readonly cacheDir?: string;
  /** Added to every default port: a second stack beside the first (tests of the stack itself). */
  readonly portOffset?: number;
}

export function stackConfig(overrides: StackOverrides = {}): StackConfig {
  const off = overrides.portOffset ?? 0;
  return {
    dataDir: resolve(overrides.dataDir ?? '.stack'),
    cacheDir: resolve(overrides.cacheDir ?? defaultCacheDir()),
    kafka: { host: '127.0.0.1', port: STACK_DEFAULTS.kafkaPort + off, controllerPort: STACK_DEFAULTS.kafkaControllerPort + off, heapMb: 1024 },
    redis: { host: '127.0.0.1', port: STACK_DEFAULTS.redisPort + off },
    dynamodb: { host: '127.0.0.1', port: STACK_DEFAULTS.dynamodbPort + off, persist: overrides.persist ?? false },
  };
}
