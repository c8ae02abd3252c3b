import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { provisionVoting } from '../../voting/provision.js';
import { countsKey, offsetsKey, regionsKey } from '../../voting/redis-keys.js';
import { tableNames } from '../../voting/topics.js';
import { cliEnv, runCli } from '../support/cli.js';
import { services, uniquePrefix } from '../support/services.js';

/** The built CLI against the test services. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { brokers, redis, dynamodbEndpoint } = services();
  return runCli(args, cliEnv({ brokers, redis, dynamodbEndpoint }, env), 60_000);
}

describe('votestream rebuild redis', () => {
  const prefix = uniquePrefix('rbe2e');
  const election = `${prefix}e1`;
  let redis: Redis;
  beforeAll(async () => {
    const dynamodb = dynamoClient(services().dynamodbEndpoint);
    await provisionVoting({ brokers: services().brokers, dynamodb, prefix, partitions: 3 });
    dynamodb.destroy();
    redis = new Redis(services().redis);
  });
  afterAll(async () => {
    await redis.del(countsKey(election, prefix), regionsKey(election, prefix), offsetsKey(election, prefix));
    await redis.quit();
    const dynamodb = dynamoClient(services().dynamodbEndpoint);
    for (const t of Object.values(tableNames(prefix))) await dynamodb.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
    dynamodb.destroy();
  });

  it('exits 2 on bad arguments, naming them', () => {
    const missing = cli(['rebuild', 'redis']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('votestream: give exactly one of --election E and --all\n');
    const bad = cli(['rebuild', 'redis', '--election', 'no spaces']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('votestream: --election must be an election id');
    const partitions = cli(['rebuild', 'redis', '--election', 'e1', '--partitions', '0']);
    expect(partitions.status).toBe(2);
    expect(partitions.stderr).toBe('votestream: --partitions must be an integer in 1..1000, got 0\n');
  });

  it('exits 4 when a service does not answer, and names it', () => {
    const r = cli(['rebuild', 'redis', '--election', 'e1'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.status).toBe(4);
    expect(r.stderr).toBe('votestream: not answering: Redis at redis://127.0.0.1:1\n');
  });

  it('exits 2 when the tables were never created', () => {
    const r = cli(['rebuild', 'redis', '--election', 'e1', '--topic-prefix', `${prefix}none-`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`votestream: DynamoDB table ${prefix}none-votestream-votes does not exist (run \`votestream init\`?)`);
  });

  it('rebuilds an election without votes to nothing, replacing stale keys', async () => {
    await redis.hset(countsKey(election, prefix), { c1: '5', _total: '5' });
    await redis.hset(offsetsKey(election, prefix), { '0': '9' });
    const r = cli(['rebuild', 'redis', '--election', election, '--topic-prefix', prefix, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      electionId: election,
      total: 0,
      counts: {},
      regions: {},
      fences: {},
      countGroup: `${prefix}votestream-count-source`,
      reset: [0, 1, 2].map((partition) => ({ partition, from: null, persist: null, to: null, moves: false })),
    });
    expect(await redis.exists(countsKey(election, prefix), regionsKey(election, prefix), offsetsKey(election, prefix))).toBe(0);
  });
});
