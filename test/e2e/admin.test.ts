import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startAdmin, type RunningAdmin } from '../../voting/admin/admin-service.js';
import { DRAFT_CLOSES_AT, DRAFT_OPENS_AT } from '../../voting/admin/election-admin.js';
import { ElectionConflictError, ElectionStore } from '../../voting/admin/election-store.js';
import { decodeElection, type Election } from '../../voting/election.js';
import { provisionVoting } from '../../voting/provision.js';
import { tableNames, topicNames } from '../../voting/topics.js';
import { cliEnv, runCliAsync } from '../support/cli.js';
import { readTopic, testDriver } from '../support/kafka-io.js';
import { services, uniquePrefix } from '../support/services.js';

const TOKEN = 'admin-token-for-the-e2e-test-0123456789';

describe('the elections admin over real HTTP, DynamoDB Local and Kafka', () => {
  const prefix = uniquePrefix('adm');
  let driver: KafkaDriver;
  let dynamodb: DynamoDBClient;
  let running: RunningAdmin;
  let url: string;
  const start = (): Promise<RunningAdmin> =>
    startAdmin({ driver, dynamodb, logger: createLogger({ level: 'silent' }), registry: createMetricsRegistry(), token: TOKEN, port: 0, prefix });
  const cli = (args: string[]) =>
    runCliAsync(['admin', 'election', ...args, '--url', url, '--json'], cliEnv({ ...services(), prefix }, { VOTESTREAM_ADMIN_TOKEN: TOKEN }));
  const published = async (): Promise<Array<[string, number]>> =>
    (await readTopic(driver, topicNames(prefix).elections)).map((r) => {
      const d = decodeElection(r.value);
      if (!d.ok) throw new TypeError(d.error);
      return [d.election.electionId, d.election.version];
    });

  beforeAll(async () => {
    driver = testDriver(services().brokers);
    dynamodb = dynamoClient(services().dynamodbEndpoint);
    await provisionVoting({ brokers: services().brokers, dynamodb, prefix, partitions: 1 });
    running = await start();
    url = `http://127.0.0.1:${running.port}`;
  });

  afterAll(async () => {
    await running?.close();
  });

  it('refuses a missing or wrong token with the same 401 on every path, existing or not', async () => {
    const bodies = new Set<string>();
    for (const path of ['/v1/admin/elections', '/v1/admin/elections/x', '/v1/admin/elections/x/open', '/v1/nothing']) {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
        const res = await fetch(`${url}${path}`, { method: path.endsWith('open') ? 'POST' : 'GET', headers: authorization === undefined ? {} : { authorization } });
        expect(res.status, `${path} ${authorization}`).toBe(401);
        bodies.add(await res.text());
      }
    }
    expect([...bodies]).toEqual([JSON.stringify({ error: 'unauthorized', message: 'send Authorization: Bearer <admin token>' })]);
  });

  it('create, edit, open and close: each a new version in DynamoDB first, then on `elections`, through the CLI', async () => {
    const created = await cli(['create', '--id', 'e1', '--title', 'First', '--candidate', 'c1=Ana', '--candidate', 'c2=Bo']);
    expect(created.status, created.stderr).toBe(0);
    const v1 = JSON.parse(created.stdout) as Election;
    expect(v1).toMatchObject({ electionId: 'e1', version: 1, title: 'First', regions: [], opensAt: DRAFT_OPENS_AT, closesAt: DRAFT_CLOSES_AT });

    const edited = JSON.parse((await cli(['edit', '--id', 'e1', '--title', 'First round', '--region', 'north'])).stdout) as Election;
    expect(edited).toMatchObject({ version: 2, title: 'First round', regions: ['north'] });
    const opened = JSON.parse((await cli(['open', '--id', 'e1', '--closes-at', '+1h'])).stdout) as Election;
    expect(opened.version).toBe(3);
    expect(opened.opensAt).toBe(opened.effectiveAt);
    const closed = JSON.parse((await cli(['close', '--id', 'e1'])).stdout) as Election;
    expect(closed).toMatchObject({ version: 4, closesAt: closed.effectiveAt, opensAt: opened.opensAt });

    const shown = JSON.parse((await cli(['show', '--id', 'e1'])).stdout) as { current: Election; versions: Election[] };
    expect(shown.versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(shown.current).toEqual(closed);
    const stored = await new ElectionStore(dynamodb, tableNames(prefix).elections).history('e1');
    expect(stored).toEqual(shown.versions);
    expect(await published()).toEqual([
      ['e1', 1],
      ['e1', 2],
      ['e1', 3],
      ['e1', 4],
    ]);
    const listed = JSON.parse((await cli(['list'])).stdout) as { elections: Election[] };
    expect(listed.elections).toEqual([closed]);
  });

  it('names the field of an invalid election, and refuses what cannot be done, with exit codes', async () => {
    const dup = await cli(['create', '--id', 'e2', '--title', 'Dup', '--candidate', 'c1=A', '--candidate', 'c1=B']);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain('candidates');
    expect(dup.stderr).toContain('duplicate candidate id "c1"');
    const again = await cli(['create', '--id', 'e1', '--title', 'Again', '--candidate', 'c1=A']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('409 conflict');
    const missing = await cli(['open', '--id', 'nope', '--closes-at', '+1h']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('404 not-found');
    const noEnd = await cli(['create', '--id', 'e3', '--title', 'Draft', '--candidate', 'c1=A']);
    expect(noEnd.status).toBe(0);
    const openDraft = await cli(['open', '--id', 'e3']);
    expect(openDraft.status).toBe(2);
    expect(openDraft.stderr).toContain('closesAt');
    const wrongToken = await runCliAsync(['admin', 'election', 'list', '--url', url], cliEnv({}, { VOTESTREAM_ADMIN_TOKEN: 'x'.repeat(30) }));
    expect(wrongToken.status).toBe(2);
    expect(wrongToken.stderr).toContain('refused the token');
  });

  it('two writers of the same version: the second is refused and nothing is published for it', async () => {
    const store = new ElectionStore(dynamodb, tableNames(prefix).elections);
    const [current] = (await store.history('e3')).slice(-1);
    const next = { ...current, version: current.version + 1, title: 'writer A' };
    await store.append(next);
    await expect(store.append({ ...next, title: 'writer B' })).rejects.toBeInstanceOf(ElectionConflictError);
    await expect(store.append({ ...next, version: next.version + 2 })).rejects.toBeInstanceOf(ElectionConflictError);
    expect((await store.history('e3')).map((v) => [v.version, v.title])).toEqual([
      [1, 'Draft'],
      [2, 'writer A'],
    ]);
  });

  it('republishes on start what DynamoDB has and the topic lacks (a crash between the two writes)', async () => {
    // The previous test wrote e3 version 2 to DynamoDB only, as a crash after the write would.
    expect((await published()).filter(([id]) => id === 'e3')).toEqual([['e3', 1]]);
    await running.close();
    running = await start();
    url = `http://127.0.0.1:${running.port}`;
    expect(running.reconciled).toBe(1);
    expect((await published()).filter(([id]) => id === 'e3')).toEqual([
      ['e3', 1],
      ['e3', 2],
    ]);
    const restarted = await start();
    expect(restarted.reconciled).toBe(0);
    await restarted.close();
  });
});
