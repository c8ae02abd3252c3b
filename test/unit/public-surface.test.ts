import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as framework from '../../index.js';
import * as testing from '../../testing.js';
import * as voting from '../../voting/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What each entry must keep inside: store layers, tasks, hash helpers, the application. */
const INTERNALS = [
  'StreamTask',
  'GlobalStateStore',
  'TopologyTestDriver',
  'ManualClock',
  'ChangeLoggingKeyValueStore',
  'MeteredKeyValueStore',
  'WriteBufferStore',
  'InMemoryKeyValueStore',
  'LevelDbKeyValueStore',
  'ChangelogCollector',
  'createTaskStore',
  'storeDigest',
  'diffStores',
  'resolveTopic',
  'votingTopology',
  'VoteCountSink',
  'DynamoVoteSink',
  'voteHash',
  'chainPk',
];

describe('the public surface (package.json exports)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };

  it('has exactly three entries, each built from its own source file', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json', './testing', './voting']);
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing.d.ts', import: './dist/testing.js' });
    expect(pkg.exports['./voting']).toEqual({ types: './dist/voting/index.d.ts', import: './dist/voting/index.js' });
  });

  it('the framework entry keeps store layers, tasks, the test driver and the application inside', () => {
    const names = Object.keys(framework);
    for (const internal of INTERNALS) expect(names, internal).not.toContain(internal);
    for (const name of ['StreamsBuilder', 'StreamsApp', 'Serdes', 'Topology', 'RedisCountSink', 'DynamoChainSink', 'VotestreamError']) {
      expect(names, name).toContain(name);
    }
  });

  it('votestream/testing has the test driver, its clock and the fake Kafka driver, and nothing of the runtime', () => {
    expect(Object.keys(testing).sort()).toEqual(expect.arrayContaining(['FakeCluster', 'FakeKafkaDriver', 'ManualClock', 'TopologyTestDriver']));
    expect(Object.keys(testing)).not.toContain('StreamTask');
    expect(Object.keys(testing)).not.toContain('StreamsApp');
  });

  it('votestream/voting has the application', () => {
    for (const name of ['votingTopology', 'VoteCountSink', 'DynamoVoteSink', 'decideVote', 'parseElection']) {
      expect(Object.keys(voting), name).toContain(name);
    }
  });

  // `npm test` builds first (pretest); a bare `vitest run` on a tree never built has no dist to check.
  it.runIf(existsSync(join(root, 'dist', 'testing.js')))('resolves by package name from the built output, and strips @internal members from the types', () => {
    const script = [
      "const t = await import('votestream/testing');",
      "const v = await import('votestream/voting');",
      "const f = await import('votestream');",
      'console.log(JSON.stringify([typeof t.TopologyTestDriver, typeof v.votingTopology, typeof f.StreamsBuilder, "StreamTask" in f]));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', false]);
    // KStream's constructor is @internal: streams come from the builder, never from `new`.
    const kstreamTypes = readFileSync(join(root, 'dist', 'topology', 'kstream.d.ts'), 'utf8');
    expect(kstreamTypes).toMatch(/export declare class KStream</);
    expect(kstreamTypes).not.toMatch(/constructor\(/);
  });
});
