import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../runtime/errors.js';
import { createRedisClient, isRedisCluster, parseRedisClusterUrl } from '../../../sinks/redis-client.js';

describe('Redis addresses', () => {
  it('reads redis+cluster:// seed nodes, credentials percent-decoded, IPv6 in brackets', () => {
    expect(parseRedisClusterUrl('redis+cluster://127.0.0.1:16379,127.0.0.1:16380,127.0.0.1:16381')).toEqual({
      seeds: [
        { host: '127.0.0.1', port: 16379 },
        { host: '127.0.0.1', port: 16380 },
        { host: '127.0.0.1', port: 16381 },
      ],
    });
    expect(parseRedisClusterUrl('REDIS+CLUSTER://app:p%40ss@redis-a:7000,[::1]:7001/')).toEqual({
      seeds: [
        { host: 'redis-a', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'app',
      password: 'p@ss',
    });
    expect(parseRedisClusterUrl('redis+cluster://:secret@h:1')).toEqual({ seeds: [{ host: 'h', port: 1 }], password: 'secret' });
  });

  it('refuses an address without a host:port, naming the seed', () => {
    expect(() => parseRedisClusterUrl('redis+cluster://h:1,,h:2')).toThrow(
      new ConfigError('Redis Cluster seed "" is not host:port (expected redis+cluster://host:port[,host:port...])'),
    );
    expect(() => parseRedisClusterUrl('redis+cluster://h:0')).toThrow(ConfigError);
    expect(() => parseRedisClusterUrl('redis://h:1')).toThrow(new ConfigError('"redis://h:1" is not a redis+cluster:// address'));
  });

  it('makes a Cluster client for redis+cluster://, a single-node client otherwise', () => {
    const cluster = createRedisClient('redis+cluster://127.0.0.1:1,127.0.0.1:2', { lazyConnect: true });
    const single = createRedisClient('redis://127.0.0.1:1', { lazyConnect: true });
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(isRedisCluster(cluster)).toBe(true);
      expect((cluster as Cluster).options.scaleReads).toBe('master');
      expect(single).toBeInstanceOf(Redis);
      expect(isRedisCluster(single)).toBe(false);
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });
});
