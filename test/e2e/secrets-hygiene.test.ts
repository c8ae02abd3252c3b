import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { createSigningKeys } from '../../voting/audit/signing-key.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { provisionVoting } from '../../voting/provision.js';
import { cliEnv } from '../support/cli.js';
import { waitUntil } from '../support/poll.js';
import { services, uniquePrefix } from '../support/services.js';

/**
 * Issue 15, item 5: secrets come from files or the environment and never show in logs or
 * metrics. The gateway (twice: secret from the environment, secret from a file), the admin (token
 * from the environment, and from a file), the feed and a worker with role audit (signing key from
 * a file named by the environment) run as the operator runs them, at log level debug; traffic
 * goes through, refused requests included; then every line they wrote and every /metrics they
 * serve is searched for each secret (as text, base64, base64url, hex) and each bearer token a
 * client sent (whole, and its signature alone).
 */

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  output: string;
}

const secret = (): string => randomBytes(36).toString('base64url');

describe('secrets never reach logs or metrics', () => {
  const prefix = uniquePrefix('sec');
  const electionId = 'sec-e1';
  const dir = mkdtempSync(join(tmpdir(), 'vs-secrets-'));
  const tokenSecretEnv = secret();
  const tokenSecretFile = secret();
  const adminTokenEnv = secret();
  const adminTokenFile = secret();
  const running: Service[] = [];
  /** Every credential a client put in a request: none may be echoed anywhere. */
  const sent: string[] = [];
  let keyLine: string;
  const urls: Record<string, string> = {};

  function start(name: string, args: string[], env: NodeJS.ProcessEnv): Service {
    const child = spawn(process.execPath, ['dist/cli/main.js', ...args], {
      env: { ...cliEnv({ ...services(), prefix }), LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const s: Service = { name, child, output: '' };
    child.stdout!.on('data', (chunk: Buffer) => (s.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (s.output += chunk.toString()));
    running.push(s);
    return s;
  }

  async function listening(s: Service, pattern: RegExp): Promise<string> {
    let url: string | undefined;
    await waitUntil(
      () => {
        if (s.child.exitCode !== null) throw new Error(`${s.name} exited ${s.child.exitCode}:\n${s.output.slice(-3000)}`);
        url = pattern.exec(s.output)?.[1];
        return url !== undefined;
      },
      () => `${s.name} to listen (output so far: ${s.output.slice(-500)})`,
      { timeoutMs: 60_000 },
    );
    return url!.replace('//0.0.0.0:', '//127.0.0.1:');
  }

  const adminCall = async (url: string, token: string, method: string, path: string, body?: unknown): Promise<Response> => {
    sent.push(token);
    return fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  };

  const vote = async (url: string, token: string, candidateId = 'c1'): Promise<number> => {
    sent.push(token);
    const res = await fetch(`${url}/v1/elections/${electionId}/votes`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ candidateId }) });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    await provisionVoting({ brokers: services().brokers, dynamodb: dynamoClient(services().dynamodbEndpoint), prefix, partitions: 2 });
    writeFileSync(join(dir, 'token.secret'), `${tokenSecretFile}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'admin-token'), `${adminTokenFile}\n`, { mode: 0o600 });
    const keys = createSigningKeys(join(dir, 'keys'), 'secrets-test');
    chmodSync(keys.privateKeyFile, 0o600);
    keyLine = readFileSync(keys.privateKeyFile, 'utf8').trim();

    const gwEnv = start('gateway (env secret)', ['gateway', '--host', '127.0.0.1', '--port', '0'], { VOTESTREAM_TOKEN_SECRET: tokenSecretEnv });
    const gwFile = start('gateway (file secret)', ['gateway', '--host', '127.0.0.1', '--port', '0', '--token-secret-file', join(dir, 'token.secret')], {});
    const adminEnv = start('admin (env token)', ['admin', 'serve', '--port', '0'], { VOTESTREAM_ADMIN_TOKEN: adminTokenEnv });
    const adminFile = start('admin (file token)', ['admin', 'serve', '--port', '0', '--admin-token-file', join(dir, 'admin-token')], {});
    const feed = start('feed', ['feed', '--host', '127.0.0.1', '--port', '0', '--interval', '50', '--signing-public-key', keys.publicKeyFile], {});
    const worker = start('worker', ['worker', '--state-dir', join(dir, 'state'), '--metrics-port', '0', '--instance-id', 'w1', '--roles', 'dedup', 'count', 'persist', 'audit', '--close-grace-ms', '0'], {
      VOTESTREAM_SIGNING_KEY_FILE: keys.privateKeyFile,
    });
    urls.gwEnv = await listening(gwEnv, /gateway listening on (http:\/\/[^\s]+)/);
    urls.gwFile = await listening(gwFile, /gateway listening on (http:\/\/[^\s/]+)/);
    urls.adminEnv = await listening(adminEnv, /admin listening on (http:\/\/[^\s/]+)/);
    urls.adminFile = await listening(adminFile, /admin listening on (http:\/\/[^\s/]+)/);
    urls.feed = await listening(feed, /feed listening on (http:\/\/[^\s]+)/);
    urls.worker = (await listening(worker, /"url":"([^"]+)"[^\n]*"msg":"metrics served"/)).replace(/\/metrics$/, '');
  }, 120_000);

  afterAll(async () => {
    for (const s of running) {
      if (s.child.exitCode === null) {
        const exited = new Promise((r) => s.child.once('exit', r));
        s.child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (s.child.exitCode === null) s.child.kill('SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs an election through every service, refused requests included, and no secret or client token shows anywhere', async () => {
    // Refused first: wrong admin tokens, each admin with the other's token, a voter token.
    const wrongAdmin = secret();
    expect((await adminCall(urls.adminEnv, wrongAdmin, 'GET', '/v1/admin/elections')).status).toBe(401);
    expect((await adminCall(urls.adminEnv, adminTokenFile, 'GET', '/v1/admin/elections')).status).toBe(401);
    expect((await adminCall(urls.adminFile, adminTokenEnv, 'GET', '/v1/admin/elections')).status).toBe(401);
    // The admins' own tokens: create on one, open on the other.
    expect((await adminCall(urls.adminEnv, adminTokenEnv, 'POST', '/v1/admin/elections', { electionId, title: 'Secrets', candidates: [{ id: 'c1', name: 'One' }, { id: 'c2', name: 'Two' }] })).status).toBe(201);
    expect((await adminCall(urls.adminFile, adminTokenFile, 'POST', `/v1/admin/elections/${electionId}/open`, { closesAt: Date.now() + 3_600_000 })).status).toBe(200);

    const tokenFor = (voterId: string, key: string, ttlSec = 600): Promise<string> => issueToken({ voterId, electionId, ttlSec, algorithm: 'HS256', key });
    // The gateways learn of the election from `elections`: wait until one takes a vote.
    let accepted = 0;
    await waitUntil(async () => (await vote(urls.gwEnv, await tokenFor(`first-${accepted}`, tokenSecretEnv))) === 202 && ++accepted > 0, 'the env-secret gateway to take a vote', { timeoutMs: 30_000, intervalMs: 200 });
    await waitUntil(async () => (await vote(urls.gwFile, await tokenFor(`second-${accepted}`, tokenSecretFile))) === 202 && ++accepted > 0, 'the file-secret gateway to take a vote', { timeoutMs: 30_000, intervalMs: 200 });
    for (let i = 0; i < 10; i++) {
      expect(await vote(urls.gwEnv, await tokenFor(`env-${i}`, tokenSecretEnv), i % 2 === 0 ? 'c1' : 'c2')).toBe(202);
      expect(await vote(urls.gwFile, await tokenFor(`file-${i}`, tokenSecretFile), 'c2')).toBe(202);
      accepted += 2;
    }
    // Refused votes: each gateway given the other's tokens, expired ones, forged and unsigned ones, the admin token as a bearer.
    const nowSec = Math.floor(Date.now() / 1000);
    const refused = [
      [urls.gwEnv, await tokenFor('x1', tokenSecretFile)],
      [urls.gwFile, await tokenFor('x2', tokenSecretEnv)],
      [urls.gwEnv, await tokenFor('x3', tokenSecretEnv, -60)],
      [urls.gwFile, await new SignJWT({ election: electionId }).setProtectedHeader({ alg: 'HS256' }).setSubject('x4').setExpirationTime(nowSec + 600).sign(new TextEncoder().encode(secret()))],
      [urls.gwEnv, adminTokenEnv],
      [urls.gwFile, `${(await tokenFor('x5', tokenSecretFile)).split('.').slice(0, 2).join('.')}.`],
    ] as const;
    for (const [url, token] of refused) expect(await vote(url, token)).toBe(401);

    // The votes are counted (the worker ran them through dedup and count) and the feed serves them.
    const results = async (): Promise<{ total: number; official?: { checkpoint?: string } }> => (await (await fetch(`${urls.feed}/v1/elections/${electionId}/results`)).json()) as { total: number; official?: { checkpoint?: string } };
    await waitUntil(async () => (await results()).total === accepted, `the feed to show ${accepted} votes`, { timeoutMs: 60_000, intervalMs: 250 });
    // Closing it makes the worker's audit role sign the official result with the key.
    expect((await adminCall(urls.adminEnv, adminTokenEnv, 'POST', `/v1/admin/elections/${electionId}/close`)).status).toBe(200);
    await waitUntil(async () => typeof (await results()).official?.checkpoint === 'string', 'the signed official result', { timeoutMs: 60_000, intervalMs: 250 });

    const metrics: Record<string, string> = {};
    for (const [name, url] of Object.entries(urls)) {
      const res = await fetch(`${url}/metrics`);
      expect(res.status, name).toBe(200);
      metrics[name] = await res.text();
    }
    expect(metrics.gwEnv).toMatch(/votestream_gateway_requests_total\{[^}]*status="401"[^}]*\} [1-9]/);
    expect(metrics.adminEnv).toMatch(/votestream_admin_requests_total\{[^}]*status="401"[^}]*\} [1-9]/);

    // Everything each process wrote, and served as metrics.
    const haystacks: Array<[string, string]> = [...running.map((s) => [`${s.name} output`, s.output] as [string, string]), ...Object.entries(metrics).map(([name, text]) => [`${name} /metrics`, text] as [string, string])];
    expect(haystacks.every(([, text]) => text.length > 0)).toBe(true);
    const seed = Buffer.from(keyLine.split('+').slice(4).join('+'), 'base64');
    const secrets: Array<[string, string]> = [
      ['token secret (env)', tokenSecretEnv],
      ['token secret (file)', tokenSecretFile],
      ['admin token (env)', adminTokenEnv],
      ['admin token (file)', adminTokenFile],
      ['signing key line', keyLine],
      ['signing key (base64)', keyLine.split('+').slice(4).join('+')],
      ['signing seed (hex)', seed.subarray(1).toString('hex')],
      ['signing seed (base64)', seed.subarray(1).toString('base64')],
      ['signing seed (base64url)', seed.subarray(1).toString('base64url')],
    ];
    const forms: Array<[string, string]> = [];
    for (const [name, value] of secrets) {
      forms.push([name, value], [`${name}, base64`, Buffer.from(value).toString('base64')], [`${name}, base64url`, Buffer.from(value).toString('base64url')], [`${name}, hex`, Buffer.from(value).toString('hex')]);
    }
    for (const token of new Set(sent)) {
      forms.push([`client token ${token.slice(0, 12)}...`, token]);
      const signature = token.split('.')[2];
      if (signature !== undefined && signature.length >= 16) forms.push([`client token signature ${signature.slice(0, 8)}...`, signature]);
    }
    const leaks = forms.flatMap(([what, value]) => haystacks.filter(([, text]) => text.includes(value)).map(([where]) => `${what} in ${where}`));
    expect(leaks).toEqual([]);
    // The processes did log (debug), so the search had something to search: what is not secret shows.
    for (const s of running) expect(s.output.split('\n').length, s.name).toBeGreaterThan(1);
    expect(haystacks.filter(([, text]) => text.includes(prefix)).map(([where]) => where)).toContain('worker output');
  });
});
