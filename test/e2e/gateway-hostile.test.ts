import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import type { Election } from '../../voting/election.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { startGateway, type RunningGateway } from '../../voting/gateway/gateway.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { topicNames } from '../../voting/topics.js';
import { createVotingTopics, produce, readAll, testDriver } from '../support/kafka-io.js';
import { waitUntil } from '../support/poll.js';
import { rawExchange, rawRequest, trickle, type RawResponse } from '../support/raw-http.js';
import { openElection } from '../support/open-election.js';
import { services, uniquePrefix } from '../support/services.js';

/**
 * Issue 15, item 3 (the gateway part): thousands of hostile requests against a real gateway on
 * the real broker. Every request has one documented outcome, fixed before it is sent: a status
 * with its DESIGN section 3 error code, a 202, or (for what is not HTTP/1.1 that uWS can frame)
 * the connection dropped without an answer. At the end the prefix's `votes` topic holds exactly
 * the votes answered 202, nothing for any refused or dropped request.
 */

const SECRET = 'hostile-test-secret-of-at-least-32-bytes-0123';
const SEED = 20_261_203;
const PARTITIONS = 3;
const now = Date.now();
const nowSec = Math.floor(now / 1000);
const ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

const election = (electionId: string, changes: Partial<Election> = {}): Election => openElection(electionId, now, changes);

/** What a request must get: a status with its error code, a 202, or a connection dropped unanswered. */
type Outcome = { readonly status: number; readonly error: string } | { readonly status: 202 } | 'dropped';

const refused = (status: number, error: string): Outcome => ({ status, error });
const ACCEPTED: Outcome = { status: 202 };
const MALFORMED = refused(400, 'malformed');
const TOO_LARGE = refused(413, 'too-large');

interface Case {
  readonly name: string;
  readonly parts: ReadonlyArray<string | Buffer>;
  readonly expect: Outcome;
  /** For 202s: what the produced vote must hold (voteId when the client chose it). */
  readonly vote?: { readonly voterId: string; readonly electionId: string; readonly candidateId: string; readonly region?: string; readonly voteId?: string };
  /** Half-close after sending (a client that sent all it will). */
  readonly end?: boolean;
}

interface PostOptions {
  readonly electionId?: string;
  /** The whole Authorization value; undefined leaves the header out. */
  readonly authorization?: string;
  readonly contentType?: string | null;
  /** Content-Length as sent; null leaves it out; default the body's true length. */
  readonly contentLength?: string | null;
  readonly headers?: string;
  readonly method?: string;
  readonly path?: string;
}

function post(body: string | Buffer, o: PostOptions = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lines = [
    `${o.method ?? 'POST'} ${o.path ?? `/v1/elections/${o.electionId ?? 'open'}/votes`} HTTP/1.1`,
    'Host: gateway',
    ...(o.authorization === undefined ? [] : [`Authorization: ${o.authorization}`]),
    ...(o.contentType === null ? [] : [`Content-Type: ${o.contentType ?? 'application/json'}`]),
    ...(o.contentLength === null ? [] : [`Content-Length: ${o.contentLength ?? bytes.length}`]),
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n${o.headers ?? ''}\r\n`, 'latin1'), bytes]);
}

/** The body a valid request may carry, and whether it is one (the oracle for generated bodies). */
function isValidRequest(text: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    Object.keys(o).every((k) => ['candidateId', 'region', 'voteId'].includes(k)) &&
    (o.candidateId === 'c1' || o.candidateId === 'c2') &&
    (o.region === undefined || o.region === 'north' || o.region === 'south') &&
    (o.voteId === undefined || (typeof o.voteId === 'string' && UUID.test(o.voteId)))
  );
}

const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number, salt: number): T[] => fc.sample(arb, { seed: SEED + salt, numRuns });

describe('the gateway under hostile input', () => {
  const prefix = uniquePrefix('gwh');
  const topics = topicNames(prefix);
  let driver: KafkaDriver;
  let gateway: RunningGateway;
  let port: number;
  let voters = 0;
  /** A fresh valid token (and its voter) for each request that is to be judged on its body. */
  const fresh = async (election?: string): Promise<{ voterId: string; authorization: string }> => {
    const voterId = `v${voters++}`;
    return { voterId, authorization: `Bearer ${await issueToken({ voterId, electionId: election, ttlSec: 900, algorithm: 'HS256', key: SECRET })}` };
  };
  const accepted: Array<{ voteId: string; voterId: string; electionId: string; candidateId: string; region?: string }> = [];
  let requests = 0;

  beforeAll(async () => {
    driver = testDriver(services().brokers);
    await createVotingTopics(driver, prefix, PARTITIONS);
    await produce(driver, [
      electionRecord(election('open'), prefix),
      electionRecord(election('other'), prefix),
      electionRecord(election('closed', { opensAt: now - 120_000, closesAt: now - 60_000 }), prefix),
      electionRecord(election('later', { opensAt: now + 3_600_000, closesAt: now + 7_200_000 }), prefix),
    ]);
    gateway = await startGateway({
      driver,
      logger: createLogger({ level: 'silent' }),
      registry: createMetricsRegistry(),
      env: { VOTESTREAM_TOKEN_SECRET: SECRET },
      // The rate limits are not under test here (gateway.test.ts checks them): thousands of requests from one address must all be judged.
      config: { host: '127.0.0.1', port: 0, prefix, voterRatePerSec: 1e6, voterBurst: 1e6, ipRatePerSec: 1e6, ipBurst: 1e6 },
    });
    port = gateway.port;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  /** Sends every case (a few connections at a time), checks each answer against its outcome, records the 202s. */
  async function run(cases: readonly Case[], concurrency = 8, target = port): Promise<string[]> {
    const mismatches: string[] = [];
      let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++];
        requests++;
        // A dropped request is left to the server to close (its idle timeout is 10 s); a hang past 30 s is a finding.
        const res = await rawRequest(target, c.parts, { end: c.end, timeoutMs: c.expect === 'dropped' ? 30_000 : 15_000 });
        const problem = check(c, res);
        if (problem !== undefined) mismatches.push(`${c.name}: ${problem}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return mismatches;
  }

  function check(c: Case, res: RawResponse): string | undefined {
    if (res.status !== undefined && res.status >= 500) return `a ${res.status}: ${res.body}`;
    if (c.expect === 'dropped') return res.status === undefined && res.closed ? undefined : `expected the connection dropped unanswered, got ${res.status} closed=${res.closed} ${res.body}`;
    if (res.status === undefined) return `expected ${c.expect.status}, got no answer (closed=${res.closed})`;
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      return `expected a JSON body, got ${res.status} ${JSON.stringify(res.body)}`;
    }
    if (c.expect.status === 202) {
      if (res.status !== 202 || json.status !== 'accepted-for-counting' || typeof json.voteId !== 'string') return `expected 202, got ${res.status} ${res.body}`;
      if (c.vote === undefined) return 'a 202 case without its vote';
      if (c.vote.voteId !== undefined && json.voteId !== c.vote.voteId) return `expected voteId ${c.vote.voteId}, got ${String(json.voteId)}`;
      accepted.push({ ...c.vote, voteId: json.voteId });
      return undefined;
    }
    const want = c.expect as { status: number; error: string };
    if (res.status !== want.status || json.error !== want.error || typeof json.message !== 'string' || json.message === '') {
      return `expected ${want.status} ${want.error}, got ${res.status} ${res.body}`;
    }
    if (Object.keys(json).sort().join() !== 'error,message') return `extra fields in the error body: ${res.body}`;
    return undefined;
  }

  it('judges valid votes in every accepted shape: 202 each, up to a body of exactly 1 KiB', async () => {
    const shapes = sample(
      fc.record({
        candidateId: fc.constantFrom('c1', 'c2'),
        region: fc.option(fc.constantFrom('north', 'south'), { nil: undefined }),
        voteId: fc.option(fc.uuid({ version: 4 }), { nil: undefined }),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/json ; charset=utf-8'),
        indent: fc.constantFrom(0, 2),
        padTo1KiB: fc.boolean(),
      }),
      300,
      1,
    );
    const cases: Case[] = [];
    for (const [i, s] of shapes.entries()) {
      const { voterId, authorization } = await fresh(i % 2 === 0 ? 'open' : undefined);
      const request = { candidateId: s.candidateId, ...(s.region === undefined ? {} : { region: s.region }), ...(s.voteId === undefined ? {} : { voteId: s.voteId }) };
      let body = JSON.stringify(request, null, s.indent);
      if (s.padTo1KiB) body = ` ${body}${' '.repeat(1024 - body.length - 1)}`;
      cases.push({ name: `valid #${i} ${body.trim()}`, parts: [post(body, { authorization, contentType: s.contentType })], expect: ACCEPTED, vote: { voterId, electionId: 'open', ...request } });
    }
    // Query strings are not part of the route.
    const q = await fresh();
    cases.push({ name: 'query string', parts: [post('{"candidateId":"c1"}', { authorization: q.authorization, path: '/v1/elections/open/votes?candidateId=c2&x=%00' })], expect: ACCEPTED, vote: { voterId: q.voterId, electionId: 'open', candidateId: 'c1' } });
    expect(await run(cases)).toEqual([]);
    expect(accepted.length).toBe(301);
  });

  it('refuses every body that is not a vote request: malformed JSON, wrong types, extra fields, odd unicode, deep nesting, too large', async () => {
    const bodies: Array<[string, string | Buffer]> = [];
    // Text that is not JSON, or JSON that is not a request.
    for (const s of sample(fc.string({ maxLength: 300, unit: 'binary' }), 500, 2)) bodies.push(['random text', s]);
    for (const v of sample(fc.jsonValue({ maxDepth: 4 }), 400, 3)) bodies.push(['random JSON', JSON.stringify(v) ?? 'null']);
    // Every strict prefix of a valid body: a truncated request.
    const full = JSON.stringify({ candidateId: 'c1', region: 'north', voteId: '0b9a1e8e-3f4c-4b5d-9e6f-7a8b9c0d1e2f' });
    for (let i = 0; i < full.length; i++) bodies.push(['truncated', full.slice(0, i)]);
    // Wrong types for every field, the others valid.
    const wrongValue = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
    const badId = fc.string({ maxLength: 80, unit: 'grapheme' }).filter((s) => !ID.test(s) || s.length > 64);
    for (const [field, value] of sample(fc.tuple(fc.constantFrom('candidateId', 'region', 'voteId'), fc.oneof(wrongValue, badId)), 400, 4)) {
      bodies.push([`wrong ${field}`, JSON.stringify({ candidateId: 'c1', region: 'north', [field]: value })]);
    }
    for (const v of sample(fc.string({ maxLength: 40 }).filter((s) => !UUID.test(s)), 100, 5)) bodies.push(['voteId not a UUID', JSON.stringify({ candidateId: 'c1', voteId: v })]);
    bodies.push(['region not in the list', JSON.stringify({ candidateId: 'c1', region: 'west' })]);
    bodies.push(['candidateId of 1000 characters', JSON.stringify({ candidateId: 'a'.repeat(1000) })]);
    // Extra fields, including the ones that reach prototypes.
    for (const k of sample(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !['candidateId', 'region', 'voteId'].includes(k)), 200, 6)) bodies.push([`extra field`, JSON.stringify({ candidateId: 'c1', [k]: 1 })]);
    for (const raw of ['{"candidateId":"c1","__proto__":{"x":1}}', '{"candidateId":"c1","constructor":{"prototype":{"x":1}}}', '{"candidateId":"c1","voterId":"mallory"}', '{"candidateId":"c1","electionId":"other"}', '{"candidateId":"c1","ts":0}']) {
      bodies.push(['extra field (adversarial)', raw]);
    }
    // Odd unicode: lone surrogates (escaped), NUL, direction marks, invisible and look-alike characters.
    for (const odd of ['\\ud800', '\\udfff', '\\udc00\\ud800', '\\u0000', '\u202e', '\u200f', '\u200b', '\ufeff', '\u0441', '\uff43', 'e\u0301', '\u{1F600}', '\\n', '\u2028']) {
      bodies.push([`candidateId with ${JSON.stringify(odd)}`, `{"candidateId":"c${odd}1"}`]);
      bodies.push([`candidateId ending with ${JSON.stringify(odd)}`, `{"candidateId":"c1${odd}"}`]);
    }
    bodies.push(['BOM before the body', '\ufeff{"candidateId":"c1"}']);
    // Raw bytes that are not UTF-8, inside a string and outside one.
    for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      bodies.push([`invalid UTF-8 ${bad} in a string`, Buffer.concat([Buffer.from('{"candidateId":"c'), Buffer.from(bad), Buffer.from('1"}')])]);
      bodies.push([`invalid UTF-8 ${bad} after the object`, Buffer.concat([Buffer.from('{"candidateId":"c1"}'), Buffer.from(bad)])]);
    }
    // Deep nesting within the limit, and far past it.
    bodies.push(['1,024 [', '['.repeat(1024)]);
    bodies.push(['512 nested arrays', `${'['.repeat(512)}${']'.repeat(512)}`]);
    bodies.push(['nested objects in a field', `{"candidateId":${'{"a":'.repeat(150)}1${'}'.repeat(150)}}`]);
    bodies.push(['100,000 [', '['.repeat(100_000)]);
    bodies.push(['100,000 nested objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`]);
    // Too large: one byte over, and a megabyte.
    bodies.push(['1,025 bytes, valid but padded', `${JSON.stringify({ candidateId: 'c1' })}${' '.repeat(1025 - 20)}`]);
    bodies.push(['1 MiB', Buffer.alloc(1 << 20, 0x61)]);

    const cases: Case[] = [];
    for (const [i, [kind, body]] of bodies.entries()) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      if (bytes.length <= 1024 && isValidRequest(bytes.toString('utf8'))) continue;
      const { authorization } = await fresh();
      cases.push({ name: `${kind} #${i} ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`, parts: [post(bytes, { authorization })], expect: bytes.length > 1024 ? TOO_LARGE : MALFORMED });
    }
    // A declared length over the limit is refused from the head alone, before any body.
    cases.push({ name: 'declares 1 MB, sends nothing', parts: [post('', { authorization: (await fresh()).authorization, contentLength: String(1 << 20) })], expect: TOO_LARGE });
    expect(cases.length).toBeGreaterThan(1500);
    expect(await run(cases)).toEqual([]);
  });

  it('refuses every token that is not a live token of this deployment for this election, with the code that says why', async () => {
    const key = new TextEncoder().encode(SECRET);
    const wrongKey = new TextEncoder().encode('another-secret-of-at-least-32-bytes-abcdefgh');
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const ed = await generateKeyPair('EdDSA');
    const sign = (claims: JWTPayload, o: { alg?: string; k?: Parameters<SignJWT['sign']>[0]; header?: Record<string, unknown> } = {}): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256', ...o.header }).sign(o.k ?? key);
    const live = { sub: 'tok-voter', exp: nowSec + 600 };
    // Headers jose will not sign: built and signed by hand with the deployment's own secret.
    const hs256 = (header: Record<string, unknown>, claims: JWTPayload, secret = SECRET): string => {
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const valid = await sign(live);
    const [h, p, s] = valid.split('.');
    const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const table: Array<[string, string | undefined, Outcome]> = [
      ['no Authorization', undefined, refused(401, 'token-missing')],
      ['empty Authorization', '', refused(401, 'token-missing')],
      ['Basic scheme', 'Basic Zm9vOmJhcg==', refused(401, 'token-missing')],
      ['Digest scheme', 'Digest username="x"', refused(401, 'token-missing')],
      ['Token scheme', `Token ${valid}`, refused(401, 'token-missing')],
      ['Bearer and nothing', 'Bearer', refused(401, 'token-missing')],
      ['Bearer and a space', 'Bearer ', refused(401, 'token-missing')],
      ['two spaces', `Bearer  ${valid}`, refused(401, 'token-missing')],
      ['trailing junk', `Bearer ${valid} x`, refused(401, 'token-missing')],
      ['two tokens', `Bearer ${valid}, Bearer ${valid}`, refused(401, 'token-missing')],
      ['a token with a quote', `Bearer "${valid}"`, refused(401, 'token-missing')],
      ['not a JWT', 'Bearer not.a.jwt', refused(401, 'token-invalid')],
      ['one segment', `Bearer ${h}`, refused(401, 'token-invalid')],
      ['two segments', `Bearer ${h}.${p}`, refused(401, 'token-invalid')],
      ['four segments', `Bearer ${valid}.${s}`, refused(401, 'token-invalid')],
      ['empty signature', `Bearer ${h}.${p}.`, refused(401, 'token-invalid')],
      ['a 6 KB token', `Bearer ${'a'.repeat(6000)}`, refused(401, 'token-invalid')],
      ['alg none', `Bearer ${new UnsecuredJWT(live).encode()}`, refused(401, 'token-invalid')],
      ['alg none, signature kept', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.${s}`, refused(401, 'token-invalid')],
      ['alg NONE', `Bearer ${Buffer.from('{"alg":"NONE"}').toString('base64url')}.${p}.`, refused(401, 'token-invalid')],
      ['HS512 with the secret', `Bearer ${await sign(live, { alg: 'HS512', k: new TextEncoder().encode(SECRET.repeat(2)) })}`, refused(401, 'token-invalid')],
      ['HS384 with the secret', `Bearer ${await sign(live, { alg: 'HS384', k: new TextEncoder().encode(SECRET.repeat(2)) })}`, refused(401, 'token-invalid')],
      ['RS256', `Bearer ${await sign(live, { alg: 'RS256', k: rsa.privateKey })}`, refused(401, 'token-invalid')],
      ['ES256', `Bearer ${await sign(live, { alg: 'ES256', k: ec.privateKey })}`, refused(401, 'token-invalid')],
      ['EdDSA', `Bearer ${await sign(live, { alg: 'EdDSA', k: ed.privateKey })}`, refused(401, 'token-invalid')],
      ['wrong key', `Bearer ${await sign(live, { k: wrongKey })}`, refused(401, 'token-invalid')],
      ['forged payload, signature kept', `Bearer ${h}.${Buffer.from(JSON.stringify({ ...live, sub: 'mallory' })).toString('base64url')}.${s}`, refused(401, 'token-invalid')],
      ['signature with a character flipped', `Bearer ${h}.${p}.${flip(s, 5)}`, refused(401, 'token-invalid')],
      ['header with a character flipped', `Bearer ${flip(h, 3)}.${p}.${s}`, refused(401, 'token-invalid')],
      ['crit header', `Bearer ${hs256({ alg: 'HS256', crit: ['x-unknown'], 'x-unknown': 1 }, live)}`, refused(401, 'token-invalid')],
      ['b64 false', `Bearer ${hs256({ alg: 'HS256', b64: false, crit: ['b64'] }, live)}`, refused(401, 'token-invalid')],
      ['alg as an array', `Bearer ${hs256({ alg: ['HS256'] }, live)}`, refused(401, 'token-invalid')],
      ['its own key in the header (jwk)', `Bearer ${hs256({ alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from('mallory-key').toString('base64url') } }, live, 'mallory-key')}`, refused(401, 'token-invalid')],
      ['a key id the deployment does not have', `Bearer ${hs256({ alg: 'HS256', kid: '../../etc/passwd' }, live, 'mallory-key')}`, refused(401, 'token-invalid')],
      ['payload not JSON', `Bearer ${h}.${Buffer.from('not json').toString('base64url')}.${s}`, refused(401, 'token-invalid')],
      ['payload an array', `Bearer ${h}.${Buffer.from('["sub","exp"]').toString('base64url')}.${s}`, refused(401, 'token-invalid')],
      ['no claims', `Bearer ${await sign({})}`, refused(401, 'token-invalid')],
      ['expired', `Bearer ${await sign({ ...live, exp: nowSec - 60 })}`, refused(401, 'token-expired')],
      ['expired long ago', `Bearer ${await sign({ ...live, exp: 1 })}`, refused(401, 'token-expired')],
      ['not yet valid', `Bearer ${await sign({ ...live, nbf: nowSec + 600 })}`, refused(401, 'token-not-yet-valid')],
      ['not yet valid and expired', `Bearer ${await sign({ ...live, nbf: nowSec + 600, exp: nowSec - 60 })}`, refused(401, 'token-not-yet-valid')],
      ['exp not a number', `Bearer ${await sign({ ...live, exp: 'tomorrow' as unknown as number })}`, refused(401, 'token-invalid')],
      ['nbf not a number', `Bearer ${await sign({ ...live, nbf: 'now' as unknown as number })}`, refused(401, 'token-invalid')],
      ['iat not a number', `Bearer ${await sign({ ...live, iat: 'now' as unknown as number })}`, refused(401, 'token-invalid')],
      ['no exp', `Bearer ${await sign({ sub: 'tok-voter' })}`, refused(401, 'token-invalid')],
      ['no sub', `Bearer ${await sign({ exp: nowSec + 600 })}`, refused(401, 'token-invalid')],
      ['sub a number', `Bearer ${await sign({ ...live, sub: 42 as unknown as string })}`, refused(401, 'token-invalid')],
      ['sub empty', `Bearer ${await sign({ ...live, sub: '' })}`, refused(401, 'token-invalid')],
      ['sub with a space', `Bearer ${await sign({ ...live, sub: 'eve smith' })}`, refused(401, 'token-invalid')],
      ['sub with a lone surrogate', `Bearer ${await sign({ ...live, sub: 'eve\ud800' })}`, refused(401, 'token-invalid')],
      ['sub with NUL', `Bearer ${await sign({ ...live, sub: 'eve\u0000' })}`, refused(401, 'token-invalid')],
      ['sub with an RTL mark', `Bearer ${await sign({ ...live, sub: 'eve\u202e' })}`, refused(401, 'token-invalid')],
      ['sub of 129 characters', `Bearer ${await sign({ ...live, sub: 'a'.repeat(129) })}`, refused(401, 'token-invalid')],
      ['another election', `Bearer ${await sign({ ...live, election: 'other' })}`, refused(403, 'token-wrong-election')],
      ['an election claim that is not a string', `Bearer ${await sign({ ...live, election: ['open'] })}`, refused(403, 'token-wrong-election')],
    ];
    const cases: Case[] = table.map(([name, authorization, outcome]) => ({ name, parts: [post('{"candidateId":"c1"}', { authorization })], expect: outcome }));
    // A token with a character of its signature or payload changed never verifies (the last character of
    // the signature is left alone: some of its bits are padding, so a change there may decode to the same bytes).
    for (const [part, at] of sample(fc.tuple(fc.constantFrom(1, 2), fc.nat()), 150, 7)) {
      const segs = valid.split('.');
      segs[part] = flip(segs[part], at % (segs[part].length - 1));
      cases.push({ name: `tampered segment ${part} at ${at % (segs[part].length - 1)}`, parts: [post('{"candidateId":"c1"}', { authorization: `Bearer ${segs.join('.')}` })], expect: refused(401, 'token-invalid') });
    }
    // Random Authorization values: token-missing unless they look like a bearer token, then token-invalid.
    for (const value of sample(fc.string({ maxLength: 200 }).map((s) => s.replace(/[\r\n\0]/g, '')).filter((s) => s.trim() === s), 150, 8)) {
      cases.push({ name: `Authorization ${JSON.stringify(value)}`, parts: [post('{"candidateId":"c1"}', { authorization: value })], expect: refused(401, /^Bearer [A-Za-z0-9_\-.]+$/.test(value) ? 'token-invalid' : 'token-missing') });
    }
    // The valid token itself, for the election it names and for one where it names none.
    const named = await fresh('open');
    cases.push({ name: 'a token naming this election', parts: [post('{"candidateId":"c2"}', { authorization: named.authorization })], expect: ACCEPTED, vote: { voterId: named.voterId, electionId: 'open', candidateId: 'c2' } });
    const elsewhere = await fresh('open');
    cases.push({ name: 'a token naming another election', parts: [post('{"candidateId":"c2"}', { electionId: 'other', authorization: elsewhere.authorization })], expect: refused(403, 'token-wrong-election') });
    expect(await run(cases)).toEqual([]);
  });

  it('answers header abuse, bad media types, methods and routes with their codes, and drops what is not HTTP it can frame', async () => {
    const body = '{"candidateId":"c1"}';
    const cases: Case[] = [];
    const add = async (name: string, o: PostOptions, outcome: Outcome, b: string | Buffer = body, end = false): Promise<void> => {
      const t = await fresh();
      const parts = [post(b, { authorization: t.authorization, ...o })];
      cases.push({ name, parts, expect: outcome, end, ...(outcome !== 'dropped' && outcome.status === 202 ? { vote: { voterId: t.voterId, electionId: o.electionId ?? 'open', candidateId: 'c1' } } : {}) });
    };
    // Media types: only JSON (UTF-8) is read.
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json, text/plain', 'application/jsonx', 'text/json', '*/*', 'application/json; charset=utf-8; x=y']) {
      await add(`Content-Type ${ct}`, { contentType: ct }, refused(415, 'unsupported-media-type'));
    }
    await add('no Content-Type', { contentType: null }, refused(415, 'unsupported-media-type'));
    await add('Content-Type with a 6 KB parameter', { contentType: `application/json; x=${'a'.repeat(6000)}` }, refused(415, 'unsupported-media-type'));
    // Elections and routes.
    await add('unknown election', { electionId: 'nope' }, refused(404, 'unknown-election'));
    await add('election id percent-encoded', { electionId: '%6Fpen' }, refused(404, 'unknown-election'));
    await add('election id with an encoded NUL', { electionId: 'open%00' }, refused(404, 'unknown-election'));
    await add('election id with encoded emoji', { electionId: '%F0%9F%98%80' }, refused(404, 'unknown-election'));
    await add('election id of 5,000 characters', { electionId: 'e'.repeat(5000) }, refused(404, 'unknown-election'));
    await add('closed election', { electionId: 'closed' }, refused(409, 'not-open'));
    await add('election not open yet', { electionId: 'later' }, refused(409, 'not-open'));
    await add('unknown candidate', {}, refused(404, 'unknown-candidate'), '{"candidateId":"c9"}');
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) await add(`${method} on the vote route`, { method }, refused(405, 'method-not-allowed'));
    for (const path of ['/v1/elections/open/votes/x', '/v1/elections/open', '/v1/elections/../open/votes/..', '/v2/elections/open/votes', '/', '/v1/elections//votes/']) {
      await add(`POST ${path}`, { path }, refused(404, 'not-found'));
    }
    // Headers: big but framed, many, repeated.
    await add('a 6 KB header', { headers: `X-Junk: ${'a'.repeat(6000)}\r\n` }, ACCEPTED);
    await add('40 headers', { headers: Array.from({ length: 40 }, (_, i) => `X-H${i}: v\r\n`).join('') }, ACCEPTED);
    await add('the same Content-Length twice', { headers: `Content-Length: ${body.length}\r\n` }, ACCEPTED);
    await add('a second Authorization that is garbage', { headers: 'Authorization: Basic x\r\n' }, ACCEPTED);
    // HTTP/1.1 that uWS cannot frame, or refuses to: dropped without an answer (and nothing produced).
    await add('a 1 MB header', { headers: `X-Junk: ${'a'.repeat(1 << 20)}\r\n` }, 'dropped');
    await add('3,000 headers', { headers: Array.from({ length: 3000 }, (_, i) => `X${i}: v\r\n`).join('') }, 'dropped');
    await add('100 headers', { headers: Array.from({ length: 100 }, (_, i) => `X-H${i}: v\r\n`).join('') }, 'dropped');
    for (const cl of ['abc', '-1', '+20', '1e3', '99999999999999999999', '20, 20']) await add(`Content-Length ${cl}`, { contentLength: cl }, 'dropped');
    // Chunked bodies are read as they come, and refused as soon as they pass the limit.
    await add('chunked', { contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }, ACCEPTED, `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    await add('chunked in one-byte chunks', { contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }, ACCEPTED, `${[...body].map((ch) => `1\r\n${ch}\r\n`).join('')}0\r\n\r\n`);
    await add('chunked past the limit', { contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }, TOO_LARGE, `${(4000).toString(16)}\r\n${'['.repeat(4000)}\r\n0\r\n\r\n`);
    await add('chunked past the limit in small chunks', { contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }, TOO_LARGE, `${'100\r\n'.concat('['.repeat(256), '\r\n').repeat(8)}0\r\n\r\n`);
    await add('chunked past the limit, never ended', { contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }, TOO_LARGE, `${(4000).toString(16)}\r\n${'['.repeat(4000)}\r\n`);
    await add('chunked and Content-Length', { headers: 'Transfer-Encoding: chunked\r\n' }, 'dropped', `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    // A Content-Length that lies: more declared than sent, then the client closes: a truncated body, never a vote.
    await add('declares 200, sends a valid vote of 20 and closes', { contentLength: '200' }, 'dropped', body, true);
    await add('declares 1,024, sends 1,023 and closes', { contentLength: '1024' }, 'dropped', `${body}${' '.repeat(1003)}`, true);
    for (const raw of ['POST /v1/elections/open/votes HTTP/2.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 'GET /healthz\r\n\r\n', '\x00\x01\x02garbage\r\n\r\n', 'POST /v1/elections/open/votes HTTP/1.1\nHost: x\nContent-Length: 0\n\n']) {
      cases.push({ name: `not HTTP/1.1: ${JSON.stringify(raw.slice(0, 30))}`, parts: [raw], expect: 'dropped' });
    }
    expect(await run(cases, 16)).toEqual([]);
  });

  it('drops a connection whose request has conflicting Content-Lengths, unanswered, whichever value would have framed a vote', async () => {
    const found = await run([
      { name: 'Content-Length 20 then 5', parts: [post('{"candidateId":"c1"}', { authorization: (await fresh()).authorization, headers: 'Content-Length: 5\r\n' })], expect: 'dropped' },
      { name: 'Content-Length 5 then 20', parts: [post('{"candidateId":"c1"}', { authorization: (await fresh()).authorization, contentLength: '5', headers: 'Content-Length: 20\r\n' })], expect: 'dropped' },
    ]);
    expect(found).toEqual([]);
  });

  it('pipelined requests: nothing is taken past ambiguous framing; after a 413 the next request is judged on its own', async () => {
    interface Pipelined {
      readonly name: string;
      readonly parts: ReadonlyArray<string | Buffer>;
      /** The answers in order; a 202 is the vote `smuggled` produced. */
      readonly expect: ReadonlyArray<Outcome>;
    }
    const voters: Array<{ voterId: string; bytes: Buffer }> = [];
    const vote = async (): Promise<Buffer> => {
      const t = await fresh();
      const bytes = post('{"candidateId":"c1"}', { authorization: t.authorization });
      voters.push({ voterId: t.voterId, bytes });
      return bytes;
    };
    const cases: Pipelined[] = [];
    const add = (c: Pipelined): number => cases.push(c);
    // Two Content-Lengths: a proxy in front may have framed the bytes otherwise, so the gateway takes nothing more from the connection.
    add({ name: 'conflicting Content-Lengths, then a vote', parts: [post('{"candidateId":"c1"}', { authorization: (await fresh()).authorization, headers: 'Content-Length: 5\r\n' }), await vote()], expect: [] });
    const inner = await vote();
    add({ name: 'Content-Length 0 and N, a vote as the body', parts: [Buffer.concat([post('', { authorization: (await fresh()).authorization, contentLength: '0', headers: `Content-Length: ${inner.length}\r\n` }), inner])], expect: [] });
    add({ name: 'chunked and Content-Length, a vote in the chunk', parts: [post(Buffer.concat([Buffer.from('0\r\n\r\n'), await vote()]), { authorization: (await fresh()).authorization, headers: 'Transfer-Encoding: chunked\r\n' })], expect: [] });
    add({ name: 'a garbage line, then a vote', parts: ['\x00garbage\r\n\r\n', await vote()], expect: [] });
    // Framing that is not ambiguous: the body is skipped by its length, and uWS (20.30) goes on to the next
    // request despite the `Connection: close` it sent with the 413: that request is judged as any other.
    add({ name: 'declared too large, a vote inside the body', parts: [post(Buffer.concat([await vote(), Buffer.alloc(1200, 0x20)]), { authorization: (await fresh()).authorization })], expect: [TOO_LARGE] });
    add({ name: 'declared too large, then a vote', parts: [post('['.repeat(2000), { authorization: (await fresh()).authorization }), await vote()], expect: [TOO_LARGE, ACCEPTED] });
    add({ name: 'chunked past the limit, then a vote', parts: [post(`${(4000).toString(16)}\r\n${'['.repeat(4000)}\r\n0\r\n\r\n`, { authorization: (await fresh()).authorization, contentLength: null, headers: 'Transfer-Encoding: chunked\r\n' }), await vote()], expect: [TOO_LARGE, ACCEPTED] });
    const wrong: string[] = [];
    // All at once: the dropped ones wait for the server's idle timeout.
    const exchanges = await Promise.all(cases.map((c) => rawExchange(port, c.parts)));
    for (const [i, c] of cases.entries()) {
      const { responses, closed } = exchanges[i];
      requests++;
      const got = responses.map((r) => `${r.status} ${r.status === 202 ? 'accepted' : (JSON.parse(r.body) as { error: string }).error}`);
      const want = c.expect.map((o) => (o === 'dropped' ? 'dropped' : `${o.status} ${'error' in o ? o.error : 'accepted'}`));
      if (JSON.stringify(got) !== JSON.stringify(want) || !closed) wrong.push(`${c.name}: expected ${JSON.stringify(want)} then closed, got ${JSON.stringify(got)} closed=${closed}`);
      for (const r of responses.filter((x) => x.status === 202)) {
        // The 202 belongs to the last vote of this case's bytes.
        const bytes = Buffer.concat(c.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
        const v = voters.find((x) => bytes.includes(x.bytes))!;
        accepted.push({ voteId: (JSON.parse(r.body) as { voteId: string }).voteId, voterId: v.voterId, electionId: 'open', candidateId: 'c1' });
      }
    }
    // And the final check (the topic holds exactly the 202s) proves no other vote of these bytes was produced.
    expect(wrong).toEqual([]);
  });

  it('a gateway pinned to EdDSA refuses HS256 keyed with its public key (key confusion), none and other curves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-gwh-'));
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    const publicPem = await exportSPKI(ed.publicKey);
    writeFileSync(join(dir, 'token.pub'), publicPem);
    const edGateway = await startGateway({
      driver,
      logger: createLogger({ level: 'silent' }),
      registry: createMetricsRegistry(),
      config: { host: '127.0.0.1', port: 0, prefix, tokenAlgorithm: 'EdDSA', tokenPublicKeyFile: join(dir, 'token.pub'), ipBurst: 1e6, voterBurst: 1e6 },
    });
    try {
      const claims = { sub: 'ed-voter', exp: nowSec + 600 };
      const other = await generateKeyPair('EdDSA');
      const ec = await generateKeyPair('ES256');
      const body = '{"candidateId":"c1"}';
      const cases: Case[] = [
        ['HS256 keyed with the public key PEM', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicPem))],
        ['HS256 keyed with the deployment secret of the other gateway', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))],
        ['alg none', new UnsecuredJWT(claims).encode()],
        ['EdDSA with another key', await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(other.privateKey)],
        ['ES256', await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey)],
      ].map(([name, jwt]) => ({ name, parts: [post(body, { authorization: `Bearer ${jwt}` })], expect: refused(401, 'token-invalid') }));
      const good = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(ed.privateKey);
      cases.push({ name: 'EdDSA with the deployment key', parts: [post(body, { authorization: `Bearer ${good}` })], expect: ACCEPTED, vote: { voterId: 'ed-voter', electionId: 'open', candidateId: 'c1' } });
      expect(await run(cases, 8, edGateway.port)).toEqual([]);
    } finally {
      await edGateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replays are taken as sent (202 each; the workers reject the second as a duplicate, DESIGN section 3)', async () => {
    const t = await fresh('open');
    const voteId = '6f1c1d7e-2b3a-4c5d-8e9f-0a1b2c3d4e5f';
    const again: Case = { name: 'replay', parts: [post(JSON.stringify({ candidateId: 'c1', voteId }), { authorization: t.authorization })], expect: ACCEPTED, vote: { voterId: t.voterId, electionId: 'open', candidateId: 'c1', voteId } };
    const found = [...(await run([again])), ...(await run([again]))];
    const other: Case = { name: 'same token, another vote', parts: [post('{"candidateId":"c2"}', { authorization: t.authorization })], expect: ACCEPTED, vote: { voterId: t.voterId, electionId: 'open', candidateId: 'c2' } };
    found.push(...(await run([other])));
    expect(found).toEqual([]);
    expect(accepted.filter((a) => a.voteId === voteId)).toHaveLength(2);
  });

  it('closes slowloris clients (head or body a byte at a time) after its timeout while serving everyone else', async () => {
    const slow = await fresh();
    const head = trickle(port, post('{"candidateId":"c1"}', { authorization: (await fresh()).authorization }), 1000);
    const bodyFirst = post('{"candidateId":"c1"}', { authorization: slow.authorization, contentLength: '120' });
    const headEnd = bodyFirst.indexOf('\r\n\r\n') + 4;
    const bodySocket = trickle(port, Buffer.concat([bodyFirst.subarray(headEnd), Buffer.alloc(100, 0x20)]), 1000);
    bodySocket.socket.write(bodyFirst.subarray(0, headEnd));
    let headClosed = false;
    let bodyClosed = false;
    void head.closed.then(() => (headClosed = true));
    void bodySocket.closed.then(() => (bodyClosed = true));
    // Others are served meanwhile, a vote at a time, until both slow clients were cut off.
    let served = 0;
    const found: string[] = [];
    await waitUntil(
      async () => {
        const t = await fresh();
        const c: Case = { name: `served during slowloris #${served}`, parts: [post('{"candidateId":"c2"}', { authorization: t.authorization })], expect: ACCEPTED, vote: { voterId: t.voterId, electionId: 'open', candidateId: 'c2' } };
        found.push(...(await run([c])));
        served++;
        return headClosed && bodyClosed;
      },
      () => `the slow clients to be closed (head ${headClosed}, body ${bodyClosed}, ${head.sent()} and ${bodySocket.sent()} bytes sent)`,
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    head.stop();
    bodySocket.stop();
    expect(found).toEqual([]);
    expect(served).toBeGreaterThan(1);
    // Cut off before the head or body was whole: no answer at all.
    expect(head.sent()).toBeLessThan(post('{"candidateId":"c1"}', { authorization: slow.authorization }).indexOf('\r\n\r\n'));
    expect(head.received()).toBe('');
    expect(bodySocket.sent()).toBeLessThan(120);
    expect(bodySocket.received()).toBe('');
  });

  it('is alive and ready at the end, never answered a 5xx, and produced exactly the votes it answered 202', async () => {
    expect(requests).toBeGreaterThan(2400);
    const ready = await rawRequest(port, ['GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect({ status: ready.status, body: ready.body }).toEqual({ status: 200, body: JSON.stringify({ ready: true }) });
    const metrics = await rawRequest(port, ['GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n']);
    const statuses = [...metrics.body.matchAll(/votestream_gateway_requests_total\{[^}]*status="(\d+)"[^}]*\} (\d+)/g)].map((m) => m[1]);
    expect(statuses.filter((s) => s.startsWith('5'))).toEqual([]);

    const records = await readAll(driver, topics.votes, accepted.length, 60_000);
    const got = records.map((r) => {
      const { ts, ...vote } = JSON.parse(r.value!.toString()) as Record<string, unknown>;
      expect(ts).toBe(r.timestamp);
      return { key: r.key?.toString(), ...vote };
    });
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>): number => String(a.voteId).localeCompare(String(b.voteId));
    expect(got.sort(byId)).toEqual(
      accepted.map((a) => ({ key: a.voterId, voteId: a.voteId, electionId: a.electionId, voterId: a.voterId, candidateId: a.candidateId, ...(a.region === undefined ? {} : { region: a.region }) })).sort(byId),
    );
  });
});
