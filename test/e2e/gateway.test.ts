import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../runtime/partitioner.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Election } from '../../voting/election.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { startGateway, type RunningGateway } from '../../voting/gateway/gateway.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { topicNames } from '../../voting/topics.js';
import { createVotingTopics, produce, readTopic, testDriver } from '../support/kafka-io.js';
import { services, uniquePrefix } from '../support/services.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789';
const PARTITIONS = 3;
const now = Date.now();

function election(electionId: string, changes: Partial<Election> = {}): Election {
  return {
    electionId,
    version: 1,
    effectiveAt: now - 60_000,
    title: `Election ${electionId}`,
    candidates: [
      { id: 'c1', name: 'One' },
      { id: 'c2', name: 'Two' },
    ],
    regions: [],
    opensAt: now - 60_000,
    closesAt: now + 3_600_000,
    ...changes,
  };
}

const token = (voterId: string, options: { election?: string; ttlSec?: number } = {}): Promise<string> =>
  issueToken({ voterId, electionId: options.election, ttlSec: options.ttlSec ?? 600, algorithm: 'HS256', key: SECRET });

describe('the vote gateway over real HTTP and a real broker', () => {
  const prefix = uniquePrefix('gw');
  const topics = topicNames(prefix);
  let driver: KafkaDriver;
  let gateway: RunningGateway;
  let base: string;

  const post = (electionId: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/v1/elections/${electionId}/votes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const vote = async (voterId: string, electionId: string, body: unknown, claims: { election?: string } = {}): Promise<Response> =>
    post(electionId, body, { authorization: `Bearer ${await token(voterId, claims)}` });

  beforeAll(async () => {
    driver = testDriver(services().brokers);
    await createVotingTopics(driver, prefix, PARTITIONS);
    await produce(driver, [
      electionRecord(election('open'), prefix),
      electionRecord(election('regional', { regions: ['north', 'south'] }), prefix),
      electionRecord(election('closed', { opensAt: now - 120_000, closesAt: now - 60_000 }), prefix),
    ]);
    gateway = await startGateway({
      driver,
      logger: createLogger({ level: 'silent' }),
      registry: createMetricsRegistry(),
      env: { VOTESTREAM_TOKEN_SECRET: SECRET },
      config: { host: '127.0.0.1', port: 0, prefix, voterRatePerSec: 0.01, voterBurst: 3, corsOrigins: ['http://page.example:8081'] },
    });
    base = `http://127.0.0.1:${gateway.port}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const accepted: Array<{ voterId: string; body: Record<string, unknown>; voteId: string; electionId: string }> = [];

  it('answers 202 with the voteId only after Kafka acknowledged the vote, keyed and partitioned by voter', async () => {
    const voteId = '0b9a1e8e-3f4c-4b5d-9e6f-7a8b9c0d1e2f';
    for (const [voterId, electionId, body] of [
      ['ana', 'open', { candidateId: 'c1' }],
      ['bob', 'open', { candidateId: 'c2', voteId }],
      ['cid', 'regional', { candidateId: 'c2', region: 'south' }],
    ] as const) {
      const res = await vote(voterId, electionId, body);
      expect(res.status).toBe(202);
      const json = (await res.json()) as { voteId: string; status: string };
      expect(json.status).toBe('accepted-for-counting');
      if ('voteId' in body) expect(json.voteId).toBe(voteId);
      else expect(json.voteId).toMatch(/^[0-9a-f-]{36}$/);
      accepted.push({ voterId, electionId, body, voteId: json.voteId });
    }
  });

  it.each([
    ['no token', 'open', { candidateId: 'c1' }, {}, 401, 'token-missing'],
    ['not a bearer token', 'open', { candidateId: 'c1' }, { authorization: 'Basic Zm9vOmJhcg==' }, 401, 'token-missing'],
    ['a garbage token', 'open', { candidateId: 'c1' }, { authorization: 'Bearer not.a.jwt' }, 401, 'token-invalid'],
  ] as const)('%s: %i', async (_name, electionId, body, headers, status, error) => {
    const res = await post(electionId, body, headers);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toBe(error);
  });

  it('refuses every token that is not a live HS256 token of this deployment with 401, another election\'s with 403', async () => {
    const key = new TextEncoder().encode(SECRET);
    const nowSec = Math.floor(Date.now() / 1000);
    const other = new TextEncoder().encode('another-secret-of-at-least-32-bytes-abcdefgh');
    const { privateKey } = await generateKeyPair('EdDSA');
    const cases: Array<[string, string, number, string]> = [
      ['alg none', new UnsecuredJWT({}).setSubject('eve').setExpirationTime(nowSec + 600).encode(), 401, 'token-invalid'],
      ['forged signature', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve').setExpirationTime(nowSec + 600).sign(other), 401, 'token-invalid'],
      ['wrong algorithm (HS512, same secret)', await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('eve').setExpirationTime(nowSec + 600).sign(new TextEncoder().encode(SECRET.repeat(2))), 401, 'token-invalid'],
      ['wrong algorithm (EdDSA)', await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setSubject('eve').setExpirationTime(nowSec + 600).sign(privateKey), 401, 'token-invalid'],
      ['expired', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve').setExpirationTime(nowSec - 60).sign(key), 401, 'token-expired'],
      ['not yet valid', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve').setNotBefore(nowSec + 600).setExpirationTime(nowSec + 1200).sign(key), 401, 'token-not-yet-valid'],
      ['no exp', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve').sign(key), 401, 'token-invalid'],
      ['no sub', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(nowSec + 600).sign(key), 401, 'token-invalid'],
      ['sub not a voter id', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve smith').setExpirationTime(nowSec + 600).sign(key), 401, 'token-invalid'],
      ['other election', await token('eve', { election: 'regional' }), 403, 'token-wrong-election'],
    ];
    for (const [name, jwt, status, error] of cases) {
      const res = await post('open', { candidateId: 'c1' }, { authorization: `Bearer ${jwt}` });
      expect({ name, status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ name, status, error });
    }
    // A token naming the election voted in is fine.
    const ok = await vote('fay', 'open', { candidateId: 'c1' }, { election: 'open' });
    expect(ok.status).toBe(202);
    accepted.push({ voterId: 'fay', electionId: 'open', body: { candidateId: 'c1' }, voteId: ((await ok.json()) as { voteId: string }).voteId });
  });

  it('refuses bad bodies and votes the election cannot take, each with its status and code', async () => {
    const auth = { authorization: `Bearer ${await token('gus')}` };
    const cases: Array<[string, string, string, Record<string, string>, number, string]> = [
      ['not JSON', 'open', '{"candidateId":', auth, 400, 'malformed'],
      ['not an object', 'open', '[1,2]', auth, 400, 'malformed'],
      ['unknown field', 'open', JSON.stringify({ candidateId: 'c1', voterId: 'mallory' }), auth, 400, 'malformed'],
      ['bad voteId', 'open', JSON.stringify({ candidateId: 'c1', voteId: 'x' }), auth, 400, 'malformed'],
      ['region not in the list', 'regional', JSON.stringify({ candidateId: 'c1', region: 'west' }), auth, 400, 'malformed'],
      ['unknown election', 'nope', JSON.stringify({ candidateId: 'c1' }), auth, 404, 'unknown-election'],
      ['unknown candidate', 'open', JSON.stringify({ candidateId: 'c9' }), auth, 404, 'unknown-candidate'],
      ['closed', 'closed', JSON.stringify({ candidateId: 'c1' }), auth, 409, 'not-open'],
      ['too large', 'open', JSON.stringify({ candidateId: 'c1', pad: 'x'.repeat(2000) }), auth, 413, 'too-large'],
      ['not JSON media type', 'open', JSON.stringify({ candidateId: 'c1' }), { ...auth, 'content-type': 'text/plain' }, 415, 'unsupported-media-type'],
    ];
    for (const [name, electionId, body, headers, status, error] of cases) {
      // A fresh voter per case: the voter's rate limit is not what these check.
      const h = { ...headers, authorization: `Bearer ${await token(`v-${status}-${cases.findIndex((c) => c[0] === name)}`)}` };
      const res = await post(electionId, body, h);
      const json = (await res.json()) as { error: string; message: string };
      expect({ name, status: res.status, error: json.error }).toEqual({ name, status, error });
      expect(json.message.length).toBeGreaterThan(0);
    }
  });

  it('limits each voter: the request past the burst is 429 with Retry-After', async () => {
    const jwt = await token('hal');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      // Unknown candidate: judged after the rate limit, and nothing is produced.
      const res = await post('open', { candidateId: 'c9' }, { authorization: `Bearer ${jwt}` });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(((await res.json()) as { error: string }).error).toBe('rate-limited');
      } else await res.arrayBuffer();
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('lets only the configured page origins cast votes from a browser (CORS)', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/v1/elections/open/votes`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight('http://page.example:8081');
    expect(allowed.status).toBe(204);
    expect(Object.fromEntries([...allowed.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': 'http://page.example:8081',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
    });
    const other = await preflight('http://evil.example');
    expect([...other.headers].filter(([k]) => k.startsWith('access-control-'))).toEqual([]);
    // Unknown candidate: a full answer with CORS headers, and nothing produced.
    const res = await post('open', { candidateId: 'c9' }, { authorization: `Bearer ${await token('ivy')}`, origin: 'http://page.example:8081' });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://page.example:8081');
    await res.arrayBuffer();
  });

  it('serves /healthz, /readyz and /metrics, and 404s other routes', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/votestream_gateway_requests_total\{route="\/v1\/elections\/:id\/votes",status="202"\} 4/);
    expect(metrics).toMatch(/votestream_gateway_rate_limited_total\{by="voter"\} 1/);
    expect(metrics).not.toContain(SECRET);
    const other = await fetch(`${base}/v1/nothing`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: string }).error).toBe('not-found');
  });

  it('produced exactly the accepted votes, each keyed by voter on its murmur2 partition with the gateway-set fields', async () => {
    const records = await readTopic(driver, topics.votes);
    const got = records
      .map((r) => ({ partition: r.partition, key: r.key!.toString(), value: JSON.parse(r.value!.toString()) as Record<string, unknown>, timestamp: r.timestamp }))
      .sort((a, b) => a.key.localeCompare(b.key));
    expect(got.map((g) => g.key)).toEqual(['ana', 'bob', 'cid', 'fay']);
    for (const g of got) {
      const a = accepted.find((x) => x.voterId === g.key)!;
      expect(g.partition).toBe(partitionForKey(Buffer.from(g.key), PARTITIONS));
      expect(g.value).toEqual({ voteId: a.voteId, electionId: a.electionId, voterId: a.voterId, ...a.body, ts: g.value.ts });
      expect(g.value.ts).toBe(g.timestamp);
      expect(Math.abs((g.value.ts as number) - Date.now())).toBeLessThan(120_000);
    }
  });
});
