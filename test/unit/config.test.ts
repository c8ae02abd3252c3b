import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../cli/config.js';
import { ConfigError } from '../../runtime/errors.js';

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vs-config-')), 'votestream.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('resolveConfig', () => {
  it('uses the local stack defaults when nothing is given', () => {
    expect(resolveConfig({}, { env: {} })).toEqual({
      brokers: '127.0.0.1:19092',
      driver: 'platformatic',
      redis: 'redis://127.0.0.1:16379',
      dynamodbEndpoint: 'http://127.0.0.1:18000',
      logLevel: 'info',
      topicPrefix: '',
      sources: { brokers: 'default', driver: 'default', redis: 'default', dynamodbEndpoint: 'default', logLevel: 'default', topicPrefix: 'default' },
    });
  });

  it('ranks flags over env over file over defaults', () => {
    const configFile = file({ brokers: 'file:1', redis: 'redis://file:2', logLevel: 'debug' });
    const env = { KAFKA_BROKERS: 'env:1', REDIS_URL: 'redis://env:2' };
    const c = resolveConfig({ brokers: 'flag:1' }, { env, configFile });
    expect([c.brokers, c.redis, c.logLevel, c.dynamodbEndpoint]).toEqual(['flag:1', 'redis://env:2', 'debug', 'http://127.0.0.1:18000']);
    expect(c.sources).toEqual({ brokers: 'flag', driver: 'default', redis: 'env', dynamodbEndpoint: 'default', logLevel: 'file', topicPrefix: 'default' });
  });

  it('runs on platformatic unless --driver or KAFKA_DRIVER picks kafkajs; the flag beats the variable, which beats the file', () => {
    const d = resolveConfig({}, { env: {} });
    expect([d.driver, d.sources.driver]).toEqual(['platformatic', 'default']);
    const e = resolveConfig({}, { env: { KAFKA_DRIVER: 'kafkajs' } });
    expect([e.driver, e.sources.driver]).toEqual(['kafkajs', 'env']);
    const f = resolveConfig({ driver: 'platformatic' }, { env: { KAFKA_DRIVER: 'kafkajs' } });
    expect([f.driver, f.sources.driver]).toEqual(['platformatic', 'flag']);
    const g = resolveConfig({}, { env: { KAFKA_DRIVER: 'platformatic' }, configFile: file({ driver: 'kafkajs' }) });
    expect([g.driver, g.sources.driver]).toEqual(['platformatic', 'env']);
    const h = resolveConfig({}, { env: { KAFKA_DRIVER: '' }, configFile: file({ driver: 'kafkajs' }) });
    expect([h.driver, h.sources.driver]).toEqual(['kafkajs', 'file']);
  });

  it('names --driver or KAFKA_DRIVER, and the drivers there are, for a driver that is none of them', () => {
    expect(() => resolveConfig({ driver: 'nope' }, { env: {} })).toThrow(
      new ConfigError('invalid configuration:\n  - --driver: Invalid option: expected one of "platformatic"|"kafkajs" (got "nope")'),
    );
    expect(() => resolveConfig({}, { env: { KAFKA_DRIVER: 'librdkafka' } })).toThrow(
      new ConfigError('invalid configuration:\n  - KAFKA_DRIVER: Invalid option: expected one of "platformatic"|"kafkajs" (got "librdkafka")'),
    );
  });

  it('takes a Redis Cluster as redis+cluster:// seed nodes, and says what is wrong with a bad one', () => {
    const url = 'redis+cluster://127.0.0.1:16379,127.0.0.1:16380,127.0.0.1:16381';
    expect(resolveConfig({ redis: url }, { env: {} }).redis).toBe(url);
    expect(resolveConfig({}, { env: { REDIS_URL: 'redis+cluster://:secret@redis-a:7000/' } }).redis).toBe('redis+cluster://:secret@redis-a:7000/');
    for (const [bad, seed] of [
      ['redis+cluster://', ''],
      ['redis+cluster://127.0.0.1', '127.0.0.1'],
      ['redis+cluster://127.0.0.1:16379,', ''],
      ['redis+cluster://127.0.0.1:16379,h:99999', 'h:99999'],
      ['redis+cluster://127.0.0.1:16379/0', '127.0.0.1:16379/0'],
    ]) {
      expect(() => resolveConfig({ redis: bad }, { env: {} })).toThrow(
        new ConfigError(
          'invalid configuration:\n' +
            `  - --redis: Redis Cluster seed ${JSON.stringify(seed)} is not host:port (expected redis+cluster://host:port[,host:port...]) (got ${JSON.stringify(bad)})`,
        ),
      );
    }
  });

  it('names the offending flag, variable or file key', () => {
    expect(() => resolveConfig({ brokers: 'nope' }, { env: { REDIS_URL: 'http://x' } })).toThrow(
      new ConfigError(
        'invalid configuration:\n' +
          '  - --brokers: must be host:port[,host:port...] (got "nope")\n' +
          '  - REDIS_URL: must be a URL starting with redis:// or rediss://, or redis+cluster://host:port[,host:port...] (got "http://x")',
      ),
    );
    const configFile = file({ logLevel: 'loud' });
    expect(() => resolveConfig({}, { env: {}, configFile })).toThrow(/"logLevel" in .*votestream\.json: Invalid option/);
  });

  it('rejects unknown keys and broken JSON in the config file', () => {
    const unknown = file({ broker: 'x:1' });
    expect(() => resolveConfig({}, { env: {}, configFile: unknown })).toThrow(
      `config file ${unknown}: unknown key(s) broker; known: brokers, driver, redis, dynamodbEndpoint, logLevel, topicPrefix`,
    );
    const broken = file('{');
    expect(() => resolveConfig({}, { env: {}, configFile: broken })).toThrow(`config file ${broken} is not valid JSON`);
    expect(() => resolveConfig({}, { env: {}, configFile: '/nonexistent.json' })).toThrow('config file /nonexistent.json does not exist');
  });
});

describe('worker supervisor arguments', () => {
  it('drops the options it sets per child, in both forms, and keeps the rest', async () => {
    const { withoutOptions } = await import('../../cli/commands/worker.js');
    expect(
      withoutOptions(['worker', '--processes', '2', '--state-dir', 's', '--metrics-port=0', '--instance-id', 'x', '--roles', 'dedup'], ['processes', 'instance-id', 'metrics-port']),
    ).toEqual(['worker', '--state-dir', 's', '--roles', 'dedup']);
  });
});
