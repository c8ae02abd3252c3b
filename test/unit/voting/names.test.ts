import { describe, expect, it } from 'vitest';
import {
  countsKey,
  dedupeKey,
  DEFAULT_PARTITIONS,
  offsetField,
  offsetsKey,
  officialKey,
  regionField,
  regionsKey,
  ROOT_FIELD,
  tableNames,
  topicNames,
  topicSpecs,
  TOTAL_FIELD,
  updatesChannel,
  VERIFIED_AT_FIELD,
  VOTERS_STORE,
} from '../../../voting/index.js';
import { ConfigError } from '../../../runtime/errors.js';

describe('Redis names', () => {
  it('builds hash-tagged keys exactly', () => {
    expect(countsKey('e1')).toBe('vs:{e1}:counts');
    expect(regionsKey('e1')).toBe('vs:{e1}:regions');
    expect(offsetsKey('e1')).toBe('vs:{e1}:offsets');
    expect(officialKey('e1')).toBe('vs:{e1}:official');
    expect(updatesChannel('e1')).toBe('vs:{e1}:updates');
  });

  it('builds fields exactly', () => {
    expect(TOTAL_FIELD).toBe('_total');
    expect(VERIFIED_AT_FIELD).toBe('_verifiedAt');
    expect(ROOT_FIELD).toBe('_root');
    expect(regionField('SP', 'c3')).toBe('SP:c3');
    expect(offsetField(11)).toBe('11');
  });
});

describe('topics, tables, store', () => {
  it('default names', () => {
    expect(topicNames()).toStrictEqual({
      votes: 'votes',
      votesAccepted: 'votes-accepted',
      votesRejected: 'votes-rejected',
      votesDlq: 'votes-dlq',
      elections: 'elections',
      votersChangelog: 'votestream-voters-changelog',
    });
    expect(tableNames()).toStrictEqual({ votes: 'votestream-votes', elections: 'votestream-elections' });
    expect(DEFAULT_PARTITIONS).toBe(12);
    expect(VOTERS_STORE).toBe('voters');
    expect(dedupeKey('e1', 'u42')).toBe('e1:u42');
  });

  it('prefixed names (prefix prepended as is, changelog included)', () => {
    expect(topicNames('t1.')).toStrictEqual({
      votes: 't1.votes',
      votesAccepted: 't1.votes-accepted',
      votesRejected: 't1.votes-rejected',
      votesDlq: 't1.votes-dlq',
      elections: 't1.elections',
      votersChangelog: 't1.votestream-voters-changelog',
    });
    expect(tableNames('test-')).toStrictEqual({ votes: 'test-votestream-votes', elections: 'test-votestream-elections' });
  });

  it('rejects prefixes that make illegal names', () => {
    expect(() => topicNames('a b')).toThrow(new ConfigError('topic prefix "a b" may only contain letters, digits, ".", "_" and "-"'));
    expect(() => topicNames('x'.repeat(223))).toThrow(ConfigError);
    expect(topicNames('x'.repeat(222)).votersChangelog.length).toBe(249);
    expect(() => tableNames('a/b')).toThrow('table prefix "a/b" is not valid in a DynamoDB table name');
  });

  it('topic specs: long retention (elections too: every version), compacted changelog, co-partitioned', () => {
    const forever = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };
    const compact = { 'cleanup.policy': 'compact' };
    expect(topicSpecs({ prefix: 'p-' })).toStrictEqual([
      { name: 'p-votes', partitions: 12, replicationFactor: 1, configs: { ...forever, 'message.timestamp.after.max.ms': '5000' } },
      { name: 'p-votes-accepted', partitions: 12, replicationFactor: 1, configs: forever },
      { name: 'p-votes-rejected', partitions: 12, replicationFactor: 1, configs: forever },
      { name: 'p-votes-dlq', partitions: 12, replicationFactor: 1, configs: forever },
      { name: 'p-votestream-voters-changelog', partitions: 12, replicationFactor: 1, configs: compact },
      { name: 'p-elections', partitions: 1, replicationFactor: 1, configs: forever },
    ]);
    expect(topicSpecs({ partitions: 3, replicationFactor: 3 }).map((s) => [s.name, s.partitions, s.replicationFactor])).toStrictEqual([
      ['votes', 3, 3],
      ['votes-accepted', 3, 3],
      ['votes-rejected', 3, 3],
      ['votes-dlq', 3, 3],
      ['votestream-voters-changelog', 3, 3],
      ['elections', 1, 3],
    ]);
    expect(() => topicSpecs({ partitions: 0 })).toThrow('partitions must be an integer in 1..1000, got 0');
    const specs = topicSpecs();
    specs[0].configs['retention.ms'] = '1';
    expect(topicSpecs()[0].configs['retention.ms']).toBe('-1');
  });
});
