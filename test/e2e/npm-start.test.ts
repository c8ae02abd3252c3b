import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamodbHealthy, kafkaHealthy, redisHealthy } from '../../infra/health.js';
import { isAlive } from '../../infra/managed-process.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackDown } from '../../infra/stack.js';
import { waitUntil } from '../support/poll.js';
import { freePort } from '../support/redis-server.js';
import { services, uniquePrefix } from '../support/services.js';

/** `npm start` (`node dist/cli/main.js dev`) as a person runs it, on ports of its own. */
interface Dev {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  signal(sig: NodeJS.Signals): void;
}

async function startDev(dataDir: string, extraArgs: string[], env: NodeJS.ProcessEnv): Promise<Dev> {
  const ports = { gateway: await freePort(), feed: await freePort(), admin: await freePort() };
  const args = ['dist/cli/main.js', 'dev', '--data-dir', dataDir, '--topic-prefix', uniquePrefix('dev'), '--simulate-rate', '20'];
  args.push('--gateway-port', String(ports.gateway), '--feed-port', String(ports.feed), '--admin-port', String(ports.admin), '--worker-metrics-port', '0');
  const child = spawn(process.execPath, [...args, ...extraArgs], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    pid: child.pid!,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    stdout: () => out,
    stderr: () => err,
    signal: (sig) => child.kill(sig),
  };
}

/** Every process under `pid`, children first found through `ps --ppid`, recursively. */
function processTree(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number.parseInt(l.trim(), 10))
      .filter((n) => Number.isInteger(n));
  } catch {
    children = []; // ps exits 1 when there are none
  }
  return children.flatMap((c) => [c, ...processTree(c)]);
}

/** The page's URL, which must be the first line dev prints, and that the page and the gateway answer. */
async function waitUntilServing(dev: Dev): Promise<{ pageUrl: string; ms: number }> {
  const t0 = Date.now();
  let pageUrl = '';
  await waitUntil(
    () => {
      const first = /^Live results: (http:\/\/\S+)/.exec(dev.stdout());
      if (first !== null) pageUrl = first[1];
      return pageUrl !== '';
    },
    () => `the page's URL as dev's first line; stdout:\n${dev.stdout()}\nstderr:\n${dev.stderr().slice(-4000)}`,
    // A bound, not a measurement: a fresh stack now also waits for its group and transaction
    // coordinators, and a loaded 2-core CI machine took over 90 s once.
    { timeoutMs: 180_000, intervalMs: 200 },
  );
  let page = '';
  await waitUntil(
    async () => {
      const r = await fetch(pageUrl).catch(() => undefined);
      if (r?.status !== 200) return false;
      page = await r.text();
      return true;
    },
    `${pageUrl} to answer 200`,
    { timeoutMs: 30_000 },
  );
  const ms = Date.now() - t0;
  expect(page).toContain('<title>Live results · votestream</title>');
  const gateway = /gateway {2}(http:\/\/127\.0\.0\.1:\d+)/.exec(dev.stdout());
  expect(gateway).not.toBeNull();
  expect((await fetch(`${gateway![1]}/healthz`)).status).toBe(200);
  return { pageUrl, ms };
}

/** Ctrl-C; dev exits 0 within its grace period and nothing it started runs on. */
async function interruptAndCheck(dev: Dev, tree: number[]): Promise<number> {
  const t0 = Date.now();
  dev.signal('SIGINT');
  const code = await Promise.race([dev.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 90_000))]);
  expect(code, `dev's exit; stderr:\n${dev.stderr().slice(-4000)}`).toBe(0);
  expect(tree.filter(isAlive), 'processes dev started, still alive').toEqual([]);
  return Date.now() - t0;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vs-npm-start-'));
  dirs.push(dir);
  return dir;
}

/*
 * --keep-stack is not run here (a third Kafka start costs ~30 s on two cores): stackToStop's unit test
 * covers the decision, and dev passes the flag straight to it.
 */
describe('npm start (votestream dev)', () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page and the gateway, and Ctrl-C stops all it started but leaves the shared stack running', async () => {
    const s = services();
    const defaults = stackConfig();
    const atDefaults = s.brokers === `127.0.0.1:${defaults.kafka.port}` && s.redis === `redis://127.0.0.1:${defaults.redis.port}` && s.dynamodbEndpoint === `http://127.0.0.1:${defaults.dynamodb.port}`;
    // On the local stack's ports dev finds the shared services itself (reused, not its own);
    // elsewhere (containers, env) it is told where they are, as a person would tell it.
    const env = atDefaults ? withoutServiceEnv() : { ...process.env, KAFKA_BROKERS: s.brokers, REDIS_URL: s.redis, DYNAMODB_ENDPOINT: s.dynamodbEndpoint };
    const dev = await startDev(tempDir(), [], env);
    try {
      const { ms } = await waitUntilServing(dev);
      process.stderr.write(`[npm start] page answering ${ms} ms after spawn (shared stack reused)\n`);
      expect(dev.stdout()).toMatch(atDefaults ? /kafka +127\.0\.0\.1:\d+ +reused \(left running\)/ : /kafka +\S+ +external \(left running\)/);
      const tree = processTree(dev.pid);
      expect(tree.length).toBeGreaterThan(0); // the worker
      const stopMs = await interruptAndCheck(dev, tree);
      process.stderr.write(`[npm start] stopped ${stopMs} ms after SIGINT\n`);
      expect([await kafkaHealthy(s.brokers), await redisHealthy(s.redis), await dynamodbHealthy(s.dynamodbEndpoint)]).toEqual([true, true, true]);
    } finally {
      dev.signal('SIGKILL');
    }
  }, 180_000);

  it('stops the stack it started itself (a private one on other ports)', async () => {
    // Offset 300: the stack lifecycle test uses 200, the shared stack 0.
    const dataDir = tempDir();
    const config = stackConfig({ dataDir, portOffset: 300 });
    const own = { kafka: `127.0.0.1:${config.kafka.port}`, redis: `redis://127.0.0.1:${config.redis.port}`, dynamodb: `http://127.0.0.1:${config.dynamodb.port}` };
    expect([await kafkaHealthy(own.kafka), await redisHealthy(own.redis), await dynamodbHealthy(own.dynamodb)], 'private stack ports already taken').toEqual([false, false, false]);
    const dev = await startDev(dataDir, ['--stack-port-offset', '300'], withoutServiceEnv());
    try {
      const { ms } = await waitUntilServing(dev);
      process.stderr.write(`[npm start] page answering ${ms} ms after spawn (own stack started)\n`);
      expect(dev.stdout()).toMatch(/kafka +127\.0\.0\.1:19392 +started \(stopped on Ctrl-C\)/);
      const tree = processTree(dev.pid);
      expect(tree.length).toBeGreaterThanOrEqual(4); // the worker, Kafka, Redis, DynamoDB Local
      const stopMs = await interruptAndCheck(dev, tree);
      process.stderr.write(`[npm start] stopped with its stack ${stopMs} ms after SIGINT\n`);
      expect([await kafkaHealthy(own.kafka), await redisHealthy(own.redis), await dynamodbHealthy(own.dynamodb)]).toEqual([false, false, false]);
      expect(['kafka/kafka.pid', 'redis/redis.pid', 'dynamodb/dynamodb.pid'].filter((f) => existsSync(join(dataDir, f)))).toEqual([]);
    } finally {
      dev.signal('SIGKILL');
      await stackDown(config);
    }
  }, 300_000);

  it('a second Ctrl-C, while the stack it launched is still coming up, kills that stack and exits 130 at once', async () => {
    const dataDir = tempDir();
    const config = stackConfig({ dataDir, portOffset: 300 });
    const pidFiles = ['kafka/kafka.pid', 'redis/redis.pid', 'dynamodb/dynamodb.pid'].map((f) => join(dataDir, f));
    const dev = await startDev(dataDir, ['--stack-port-offset', '300'], withoutServiceEnv());
    try {
      await waitUntil(() => pidFiles.every((f) => existsSync(f)), () => `dev to launch its stack; stderr:\n${dev.stderr().slice(-4000)}`, { timeoutMs: 90_000 });
      const tree = processTree(dev.pid);
      expect(tree.length).toBeGreaterThanOrEqual(3);
      dev.signal('SIGINT');
      // dev counts a signal within a second of the one it handled as the same Ctrl-C: wait until it
      // logged handling the first, then until that second (by the log line's own time) is well over:
      // at exactly one second a loaded machine's few ms between dev's clock and its log line decide.
      let handledAt = 0;
      await waitUntil(() => {
        const line = dev.stderr().split('\n').find((l) => l.includes('stopping (signal again to stop at once)'));
        if (line === undefined) return false;
        const { time } = JSON.parse(line) as { time: number | string };
        handledAt = typeof time === 'number' ? time : Date.parse(time);
        return true;
      }, () => `dev to log the first SIGINT; stderr:\n${dev.stderr().slice(-4000)}`);
      await waitUntil(() => Date.now() > handledAt + 1500, 'the second after the first SIGINT to pass', { intervalMs: 50 });
      dev.signal('SIGINT');
      const code = await Promise.race([dev.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
      expect(code, `dev's exit; stderr:\n${dev.stderr().slice(-4000)}`).toBe(130);
      expect(tree.filter(isAlive), 'processes dev started, still alive').toEqual([]);
      expect(pidFiles.filter((f) => existsSync(f))).toEqual([]);
    } finally {
      dev.signal('SIGKILL');
      await stackDown(config);
    }
  }, 180_000);
});

/** This process's environment without the services' addresses, so dev uses its stack's own. */
function withoutServiceEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'REDIS_URL', 'DYNAMODB_ENDPOINT', 'VOTESTREAM_TOPIC_PREFIX']) delete env[name];
  return env;
}
