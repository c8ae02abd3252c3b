import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { startAdmin, type RunningAdmin } from '../../voting/admin/admin-service.js';
import { ElectionStore } from '../../voting/admin/election-store.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { provisionVoting } from '../../voting/provision.js';
import { tableNames, topicNames } from '../../voting/topics.js';
import { readTopic, testDriver } from '../support/kafka-io.js';
import { rawRequest } from '../support/raw-http.js';
import { services, uniquePrefix } from '../support/services.js';

const TOKEN = 'admin-access-test-token-0123456789abcdef';
const VOTER_SECRET = 'voter-token-secret-of-at-least-32-bytes-xyz';
const UNAUTHORIZED = JSON.stringify({ error: 'unauthorized', message: 'send Authorization: Bearer <admin token>' });

/**
 * Issue 15, item 5: the admin API refuses every caller without the admin token, on every route and
 * method, existing or not, with the same 401 (so a caller learns nothing of what exists), closes
 * the connection, and changes nothing: no version in DynamoDB, nothing on `elections`.
 */
describe('the admin API refuses every caller without its token', () => {
  const prefix = uniquePrefix('adma');
  let driver: KafkaDriver;
  let dynamodb: DynamoDBClient;
  let running: RunningAdmin;

  const request = (method: string, path: string, authorization: string | undefined, body = ''): Promise<Awaited<ReturnType<typeof rawRequest>>> =>
    rawRequest(running.port, [
      `${method} ${path} HTTP/1.1\r\nHost: admin\r\n${authorization === undefined ? '' : `Authorization: ${authorization}\r\n`}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ]);

  beforeAll(async () => {
    driver = testDriver(services().brokers);
    dynamodb = dynamoClient(services().dynamodbEndpoint);
    await provisionVoting({ brokers: services().brokers, dynamodb, prefix, partitions: 1 });
    running = await startAdmin({ driver, dynamodb, logger: createLogger({ level: 'silent' }), registry: createMetricsRegistry(), token: TOKEN, port: 0, prefix });
    const created = await request('POST', '/v1/admin/elections', `Bearer ${TOKEN}`, JSON.stringify({ electionId: 'e1', title: 'One', candidates: [{ id: 'c1', name: 'A' }] }));
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers 401 unauthorized with the same body for every wrong credential on every route and method', async () => {
    const voterToken = await issueToken({ voterId: 'eve', ttlSec: 600, algorithm: 'HS256', key: VOTER_SECRET });
    // A JWT signed with the admin token itself: the admin takes the token, never a JWT derived from it.
    const jwtFromAdminToken = await issueToken({ voterId: 'admin', ttlSec: 600, algorithm: 'HS256', key: TOKEN });
    const credentials: Array<[string, string | undefined]> = [
      ['none', undefined],
      ['empty', ''],
      ['Bearer alone', 'Bearer'],
      ['Bearer and a space', 'Bearer '],
      ['wrong token', 'Bearer wrong'],
      ['wrong token of the same length', `Bearer ${'x'.repeat(TOKEN.length)}`],
      ['the token with one more character', `Bearer ${TOKEN}x`],
      ['the token less its last character', `Bearer ${TOKEN.slice(0, -1)}`],
      ['the token with its last character changed', `Bearer ${TOKEN.slice(0, -1)}g`],
      ['the token in upper case', `Bearer ${TOKEN.toUpperCase()}`],
      ['the token without a scheme', TOKEN],
      ['the token as Basic', `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`],
      ['the token as Basic, bare', `Basic ${TOKEN}`],
      ['the token twice', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
      ['the token, base64', `Bearer ${Buffer.from(TOKEN).toString('base64')}`],
      ['the token, base64url', `Bearer ${Buffer.from(TOKEN).toString('base64url')}`],
      ['two spaces', `Bearer  ${TOKEN}`],
      ['a voter token', `Bearer ${voterToken}`],
      ['a JWT signed with the admin token', `Bearer ${jwtFromAdminToken}`],
      ['a 6 KB token', `Bearer ${'a'.repeat(6000)}`],
    ];
    const create = JSON.stringify({ electionId: 'e2', title: 'Two', candidates: [{ id: 'c1', name: 'A' }] });
    const routes: Array<[string, string, string]> = [
      ['GET', '/v1/admin/elections', ''],
      ['POST', '/v1/admin/elections', create],
      ['GET', '/v1/admin/elections/e1', ''],
      ['PATCH', '/v1/admin/elections/e1', JSON.stringify({ title: 'Changed' })],
      ['POST', '/v1/admin/elections/e1/open', JSON.stringify({ closesAt: Date.now() + 3_600_000 })],
      ['POST', '/v1/admin/elections/e1/close', ''],
      ['DELETE', '/v1/admin/elections/e1', ''],
      ['PUT', '/v1/admin/elections/e1', create],
      ['GET', '/v1/admin/elections/nope', ''],
      ['GET', '/v1/nothing', ''],
      ['OPTIONS', '/v1/admin/elections', ''],
    ];
    const wrong: string[] = [];
    for (const [name, authorization] of credentials) {
      for (const [method, path, body] of routes) {
        const res = await request(method, path, authorization, body);
        if (res.status !== 401 || res.body !== UNAUTHORIZED) wrong.push(`${name} ${method} ${path}: ${res.status} ${JSON.stringify(res.headers)} ${res.body}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('changed nothing: one version of one election, in DynamoDB and on `elections`', async () => {
    const history = await new ElectionStore(dynamodb, tableNames(prefix).elections).history('e1');
    expect(history.map((v) => [v.electionId, v.version, v.title])).toEqual([['e1', 1, 'One']]);
    expect(await new ElectionStore(dynamodb, tableNames(prefix).elections).history('e2')).toEqual([]);
    const published = await readTopic(driver, topicNames(prefix).elections);
    expect(published.map((r) => r.key?.toString())).toEqual(['e1']);
    // And the right token still works, on a connection of its own.
    const listed = await request('GET', '/v1/admin/elections', `Bearer ${TOKEN}`);
    expect(listed.status).toBe(200);
    expect((JSON.parse(listed.body) as { elections: Array<{ electionId: string }> }).elections.map((e) => e.electionId)).toEqual(['e1']);
  });

  it('serves /healthz and /metrics without the token, and they say nothing of the elections', async () => {
    const health = await request('GET', '/healthz', undefined);
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: JSON.stringify({ status: 'ok' }) });
    const metrics = await request('GET', '/metrics', undefined);
    expect(metrics.status).toBe(200);
    expect(metrics.body).not.toContain('e1');
    expect(metrics.body).not.toContain(TOKEN);
    expect(metrics.body).toMatch(/votestream_admin_requests_total\{route="other",status="401"\} \d+/);
  });
});
