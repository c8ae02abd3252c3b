/**
 * The one place the project makes Redis clients: a `redis://` or `rediss://` URL gives a single-node
 * client, a `redis+cluster://host:port,host:port,...` URL (seed nodes) an ioredis Cluster client.
 * Both speak the same command interface (`RedisClient`); what differs is that a Cluster refuses a
 * command, script or MULTI whose keys lie in different slots (CROSSSLOT), which is why every key of
 * an election carries its hash tag (DESIGN section 3).
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError } from '../runtime/errors.js';

export type RedisClient = Redis | Cluster;

/** The scheme of a Redis Cluster address: seed nodes, comma-separated, optional credentials. */
export const REDIS_CLUSTER_SCHEME = 'redis+cluster:';

/** The options every caller chooses; the rest is this file's. */
export interface RedisClientOptions {
  /** Shown by CLIENT LIST on every node. */
  readonly connectionName?: string;
  readonly lazyConnect?: boolean;
  /**
   * How long a command waits across reconnects: a number of reconnect attempts (single node) and
   * the same number of node connection retries (cluster); null: until the connection is back.
   */
  readonly maxRetriesPerRequest?: number | null;
  /** Delay before reconnect attempt `times`; null to give up (single node: the connection; cluster: the cluster). */
  readonly retryStrategy?: (times: number) => number | null;
  readonly enableOfflineQueue?: boolean;
  readonly connectTimeout?: number;
}

export interface RedisClusterAddress {
  readonly seeds: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  readonly password?: string;
}

export function isRedisClusterUrl(url: string): boolean {
  return url.toLowerCase().startsWith(`${REDIS_CLUSTER_SCHEME}//`);
}

export function isRedisCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

const SEED = /^(\[[0-9A-Fa-f:.]+\]|[^\s,:/@[\]]+):(\d{1,5})$/;

/**
 * `redis+cluster://[user:password@]host:port[,host:port...][/]`. The WHATWG URL parser cannot read a
 * comma-separated host list, so this is parsed by hand; credentials may be percent-encoded.
 */
export function parseRedisClusterUrl(url: string): RedisClusterAddress {
  if (!isRedisClusterUrl(url)) throw new ConfigError(`${JSON.stringify(url)} is not a ${REDIS_CLUSTER_SCHEME}// address`);
  let rest = url.slice(REDIS_CLUSTER_SCHEME.length + 2);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    try {
      if (colon < 0) password = decodeURIComponent(userinfo);
      else {
        username = decodeURIComponent(userinfo.slice(0, colon)) || undefined;
        password = decodeURIComponent(userinfo.slice(colon + 1));
      }
    } catch {
      throw new ConfigError(`the credentials of the Redis Cluster address are not valid percent-encoding`);
    }
  }
  const seeds = rest.split(',').map((seed) => {
    const m = SEED.exec(seed.trim());
    const port = m === null ? NaN : Number(m[2]);
    if (m === null || port < 1 || port > 65_535) {
      throw new ConfigError(`Redis Cluster seed ${JSON.stringify(seed)} is not host:port (expected ${REDIS_CLUSTER_SCHEME}//host:port[,host:port...])`);
    }
    return { host: m[1].startsWith('[') ? m[1].slice(1, -1) : m[1], port };
  });
  return { seeds, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
}

/**
 * A client for `url`. Cluster clients read and write masters only (`scaleReads: 'master'`): the
 * count sink's lost-state check and the feed's snapshots must never read a lagging replica. Pub/sub
 * stays classic SUBSCRIBE/PUBLISH: a cluster broadcasts PUBLISH to every node, so one subscriber
 * connection on any node hears every election, whichever slot it lives in.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): RedisClient {
  if (!isRedisClusterUrl(url)) {
    const single: RedisOptions = { ...options };
    return new Redis(url, single);
  }
  const address = parseRedisClusterUrl(url);
  const { retryStrategy, lazyConnect, enableOfflineQueue, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    scaleReads: 'master',
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    // A master that went away (or came back empty) moves no slots: retry on CLUSTERDOWN and
    // TRYAGAIN rather than failing the command at the first refusal.
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 200,
    redisOptions: {
      ...nodeOptions,
      ...(address.username === undefined ? {} : { username: address.username }),
      ...(address.password === undefined ? {} : { password: address.password }),
    },
  };
  const seeds: ClusterNode[] = address.seeds.map(({ host, port }) => ({ host, port }));
  return new Cluster(seeds, clusterOptions);
}

/** Redis answers PING within `timeoutMs` (a cluster: once its slots are known and a node answers). */
export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = createRedisClient(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  try {
    return await Promise.race([client.connect().then(async () => (await client.ping()) === 'PONG'), timer]);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
