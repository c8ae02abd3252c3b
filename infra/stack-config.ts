import { join, resolve } from 'node:path';
import { ConfigError } from '../runtime/errors.js';

/** One KRaft node (broker and controller in one process) of the local stack. */
export interface KafkaNodeConfig {
  /** node.id, 1-based. */
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
}

/** The shape of the local stack: how many brokers, and whether Redis runs as a cluster. */
export interface StackLayout {
  readonly kafkaBrokers: number;
  readonly redisCluster: boolean;
}

/** Addresses and places of the local stack (DESIGN section 6). */
export interface StackConfig {
  /** Where data, logs, pid files and generated configs go. */
  readonly dataDir: string;
  /** Where downloaded artifacts (the Kafka jars) are cached across runs and clones. */
  readonly cacheDir: string;
  readonly layout: StackLayout;
  /** `port`/`controllerPort` are the first node's; `nodes` has one entry per broker. */
  readonly kafka: { readonly host: string; readonly port: number; readonly controllerPort: number; readonly heapMb: number; readonly nodes: readonly KafkaNodeConfig[] };
  /** `port` is the single node's, or the first cluster node's; `ports` has one entry per node. */
  readonly redis: { readonly host: string; readonly port: number; readonly ports: readonly number[] };
  readonly dynamodb: { readonly host: string; readonly port: number; readonly persist: boolean };
}

export const STACK_DEFAULTS = {
  kafkaPort: 19092,
  kafkaControllerPort: 19093,
  redisPort: 16379,
  dynamodbPort: 18000,
  /** Nodes of a Redis cluster: enough masters that one can be lost and restarted while two keep serving their slots. */
  redisClusterNodes: 3,
} as const;

export const SINGLE_NODE_LAYOUT: StackLayout = { kafkaBrokers: 1, redisCluster: false };

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
  /** KRaft nodes, each broker and controller; 1 unless given. */
  readonly kafkaBrokers?: number;
  /** Three Redis masters in cluster mode instead of one server. */
  readonly redisCluster?: boolean;
}

export function stackConfig(overrides: StackOverrides = {}): StackConfig {
  const off = overrides.portOffset ?? 0;
  const layout: StackLayout = { kafkaBrokers: overrides.kafkaBrokers ?? 1, redisCluster: overrides.redisCluster ?? false };
  if (!Number.isInteger(layout.kafkaBrokers) || layout.kafkaBrokers < 1 || layout.kafkaBrokers > 9) {
    throw new ConfigError(`kafkaBrokers must be an integer in 1..9, got ${layout.kafkaBrokers}`);
  }
  // Broker i and its controller take the i-th pair of ports after the single node's pair.
  const nodes = Array.from({ length: layout.kafkaBrokers }, (_, i) => ({
    id: i + 1,
    port: STACK_DEFAULTS.kafkaPort + 2 * i + off,
    controllerPort: STACK_DEFAULTS.kafkaControllerPort + 2 * i + off,
  }));
  const redisPorts = Array.from({ length: layout.redisCluster ? STACK_DEFAULTS.redisClusterNodes : 1 }, (_, i) => STACK_DEFAULTS.redisPort + i + off);
  return {
    dataDir: resolve(overrides.dataDir ?? '.stack'),
    cacheDir: resolve(overrides.cacheDir ?? defaultCacheDir()),
    layout,
    // Several JVMs share two cores and the memory with DynamoDB Local: a smaller heap each.
    kafka: { host: '127.0.0.1', port: nodes[0].port, controllerPort: nodes[0].controllerPort, heapMb: layout.kafkaBrokers > 1 ? 512 : 1024, nodes },
    redis: { host: '127.0.0.1', port: redisPorts[0], ports: redisPorts },
    dynamodb: { host: '127.0.0.1', port: STACK_DEFAULTS.dynamodbPort + off, persist: overrides.persist ?? false },
  };
}

/** The bootstrap list of every broker, `host:port,host:port`. */
export function kafkaAddress(config: StackConfig): string {
  return config.kafka.nodes.map((n) => `${config.kafka.host}:${n.port}`).join(',');
}

/** `redis://host:port`, or for a cluster `redis+cluster://host:port,host:port,...` (every seed node). */
export function redisAddress(config: StackConfig): string {
  const { host, ports } = config.redis;
  return config.layout.redisCluster ? `redis+cluster://${ports.map((p) => `${host}:${p}`).join(',')}` : `redis://${host}:${ports[0]}`;
}
