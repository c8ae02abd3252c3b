import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../support/cli.js';
import { services, uniquePrefix } from '../support/services.js';

/** The built CLI against the test services. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { brokers, redis, dynamodbEndpoint } = services();
  return runCli(args, cliEnv({ brokers, redis, dynamodbEndpoint }, env), 120_000);
}

describe('votestream CLI', () => {
  it('init creates the topics and tables of DESIGN section 3, then finds them', () => {
    const prefix = uniquePrefix('cli');
    const first = cli(['init', '--topic-prefix', prefix, '--partitions', '3', '--json']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const names = ['votes', 'votes-accepted', 'votes-rejected', 'votes-dlq', 'votestream-voters-changelog', 'elections'].map((t) => prefix + t);
    const tables = [`${prefix}votestream-votes`, `${prefix}votestream-elections`];
    expect(JSON.parse(first.stdout)).toEqual({ topics: { created: names, found: [], migrated: [] }, tables: { created: tables, found: [] } });
    const second = cli(['init', '--topic-prefix', prefix, '--partitions', '3', '--json']);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ topics: { created: [], found: names, migrated: [] }, tables: { created: [], found: tables } });
    const mismatch = cli(['init', '--topic-prefix', prefix, '--partitions', '4']);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toContain(`votestream: existing topics do not match:\n  - ${prefix}votes has 3 partitions, expected 4`);
  });

  it('stack status --json reports every configured service healthy and not ours', () => {
    const { brokers, redis, dynamodbEndpoint } = services();
    const r = cli(['stack', 'status', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      kafka: { address: brokers, healthy: true, managed: false },
      redis: { address: redis, healthy: true, managed: false },
      dynamodb: { address: dynamodbEndpoint, healthy: true, managed: false },
    });
  });

  it('rejects bad configuration with exit code 2 and names the source', () => {
    const r = cli(['stack', 'status'], { KAFKA_BROKERS: 'not a broker' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('votestream: invalid configuration:\n  - KAFKA_BROKERS: must be host:port[,host:port...] (got "not a broker")\n');
  });

  it('answers --version and unknown commands', () => {
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // A word like no command (yargs answers "Did you mean token?" for `nope` since `token` exists).
    const r = cli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown argument: frobnicate');
    const near = cli(['gatway']);
    expect(near.status).toBe(2);
    expect(near.stderr).toContain('Did you mean gateway?');
  });
});

describe('votestream simulate', () => {
  // No --driver is platformatic; --driver kafkajs must send the very same records.
  it.each([
    ['the default driver', []],
    ['--driver kafkajs', ['--driver', 'kafkajs']],
  ])('publishes the sample elections and sends exactly the votes asked for (%s)', async (_name, driverArgs) => {
    const prefix = uniquePrefix('sim');
    expect(cli(['init', '--topic-prefix', prefix, '--partitions', '2']).status).toBe(0);
    const r = cli([...driverArgs, 'simulate', '--topic-prefix', prefix, '--votes', '300', '--rate', '2000', '--duplicates', '0.2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('300 votes sent\n');
    const { testDriver, readAll } = await import('../support/kafka-io.js');
    const driver = testDriver(services().brokers);
    const votes = await readAll(driver, `${prefix}votes`, 300, 60_000);
    const elections = await readAll(driver, `${prefix}elections`, 3, 60_000);
    expect(votes.length).toBe(300);
    expect(elections.map((e) => e.key!.toString()).sort()).toEqual(['e1', 'e2', 'e3']);
    const parsed = votes.map((v) => JSON.parse(v.value!.toString()) as { voterId: string; electionId: string });
    expect(parsed.every((v, i) => v.voterId === votes[i].key!.toString())).toBe(true);
    expect(new Set(parsed.map((v) => `${v.electionId}:${v.voterId}`)).size).toBe(240);
  });

  it('refuses a driver that is none of the choices with exit 2, naming them', () => {
    const flag = cli(['--driver', 'nope', 'simulate', '--votes', '10']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('votestream: Invalid values:\n  Argument: driver, Given: "nope", Choices: "platformatic", "kafkajs"\n');
    const env = cli(['simulate', '--votes', '10'], { KAFKA_DRIVER: 'nope' });
    expect(env.status).toBe(2);
    expect(env.stderr).toBe('votestream: invalid configuration:\n  - KAFKA_DRIVER: Invalid option: expected one of "platformatic"|"kafkajs" (got "nope")\n');
  });

  it('refuses with exit 2 when the topics were never created', () => {
    const r = cli(['simulate', '--topic-prefix', uniquePrefix('nosim'), '--votes', '10']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('run `votestream init` first');
  });
});
