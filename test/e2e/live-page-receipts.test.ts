import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { StreamsApp } from '../../runtime/streams-app.js';
import { FinalRecountScheduler } from '../../voting/audit/final-recount-scheduler.js';
import { checkReceipt } from '../../voting/audit/receipt.js';
import { parseVerifierKey } from '../../voting/audit/signed-note.js';
import { createSigningKeys, loadSigner } from '../../voting/audit/signing-key.js';
import { nextVersion } from '../../voting/election.js';
import { startFeed, type RunningFeed } from '../../voting/feed/feed.js';
import { startGateway, type RunningGateway } from '../../voting/gateway/gateway.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { receiptPath } from '../../voting/page/my-votes.js';
import { topicNames } from '../../voting/topics.js';
import { votingApplicationId, votingTopology } from '../../voting/topology.js';
import { produce } from '../support/kafka-io.js';
import { freePort } from '../support/redis-server.js';
import { setupPipeline, type Pipeline } from '../support/scenario.js';
import { services } from '../support/services.js';

/**
 * Issue 12 on the live page: votes cast with the page's form are remembered, and once the
 * election closes and the final recount publishes it, the page links each one's receipt, which
 * the feed serves and which verifies offline against the deployment's key. Everything real:
 * gateway, the three sub-topologies, the scheduler, the feed, Debian's chromium.
 */
const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789';

describe('the live page links the receipts of its votes once the election is official', () => {
  const logger = createLogger({ level: 'silent' });
  let p: Pipeline;
  let electionId: string;
  let keyDir: string;
  let app: StreamsApp;
  let gateway: RunningGateway;
  let feed: RunningFeed;
  let scheduler: FinalRecountScheduler;
  let redis: Redis;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let vkey: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Debian's chromium is missing at ${CHROMIUM}: apt-get install chromium (.ci/run installs it)`);
    p = await setupPipeline('page-receipts', 1);
    electionId = p.elections[0].electionId;
    keyDir = mkdtempSync(join(tmpdir(), 'vs-page-receipts-keys-'));
    const keys = createSigningKeys(keyDir, 'page-test');
    vkey = readFileSync(keys.publicKeyFile, 'utf8').trim();
    app = new StreamsApp(
      votingTopology({ prefix: p.prefix, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, logger }),
      { applicationId: votingApplicationId(p.prefix), brokers: p.brokers, stateDir: p.newStateDir('app'), commitIntervalMs: 100, processingExceptionHandler: 'dead-letter', processingDeadLetterTopic: topicNames(p.prefix).votesDlq },
      { logger },
    );
    await app.start();
    const feedPort = await freePort();
    origin = `http://127.0.0.1:${feedPort}`;
    gateway = await startGateway({
      driver: p.driver,
      logger,
      registry: createMetricsRegistry(),
      env: { VOTESTREAM_TOKEN_SECRET: SECRET },
      config: { host: '127.0.0.1', port: 0, prefix: p.prefix, corsOrigins: [origin] },
    });
    feed = await startFeed({
      logger,
      registry: createMetricsRegistry(),
      driver: p.driver,
      demoToken: async (id) => {
        const voterId = `demo-${randomUUID()}`;
        return { voterId, token: await issueToken({ voterId, electionId: id, ttlSec: 600, algorithm: 'HS256', key: SECRET }) };
      },
      config: {
        host: '127.0.0.1',
        port: feedPort,
        prefix: p.prefix,
        redis: services().redis,
        gatewayUrl: `http://127.0.0.1:${gateway.port}`,
        intervalMs: 100,
        refreshMs: 500,
        dynamodbEndpoint: p.dynamodbEndpoint,
        signingPublicKeyFile: keys.publicKeyFile,
      },
    });
    redis = new Redis(services().redis);
    scheduler = new FinalRecountScheduler({
      driver: p.driver,
      dynamodb: p.dynamodb,
      table: p.table,
      redis,
      prefix: p.prefix,
      signer: loadSigner(keys.privateKeyFile),
      deployment: 'page-test',
      logger,
      closeGraceMs: 500,
      pollIntervalMs: 200,
    });
    scheduler.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  });

  afterAll(async () => {
    await browser?.close();
    await scheduler?.close();
    redis?.disconnect();
    await feed?.close();
    await gateway?.close();
    await app?.close();
    if (keyDir !== undefined) rmSync(keyDir, { recursive: true, force: true });
    await p?.cleanup();
  });

  const voteWithForm = async (name: string): Promise<void> => {
    await page.getByRole('button', { name, exact: true }).click();
    await expect.poll(() => page.locator('#vote-result').textContent(), { timeout: 15_000 }).toBe(`Your vote for ${name} was accepted for counting.`);
  };

  it('remembers the votes cast, then links receipts that verify once the result is official', async () => {
    await page.goto(`${origin}/elections/${electionId}`);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    await expect.poll(() => page.locator('#vote').isVisible(), { timeout: 15_000 }).toBe(true);
    await voteWithForm('Candidate 1');
    await voteWithForm('Candidate 3');
    const stored = await page.evaluate<{ voteId: string; candidate: string }[]>(`JSON.parse(localStorage.getItem('votestream:my-votes:${electionId}'))`);
    expect(stored.map((v) => v.candidate)).toEqual(['Candidate 1', 'Candidate 3']);
    // Not official yet: no receipts to link.
    await expect.poll(() => page.locator('#total').textContent(), { timeout: 30_000 }).toBe('2');
    expect(await page.locator('#receipts').isHidden()).toBe(true);

    // The close: a new version, effective now, closing now.
    const now = Date.now();
    const closing = nextVersion(p.elections[0], { closesAt: now }, now);
    await produce(p.driver, [{ topic: topicNames(p.prefix).elections, key: Buffer.from(electionId), value: Buffer.from(JSON.stringify(closing)) }]);
    await expect.poll(() => scheduler.status(electionId)?.state, { timeout: 90_000, interval: 200 }).toBe('published');

    await expect.poll(() => page.locator('#receipts').isVisible(), { timeout: 30_000 }).toBe(true);
    const links = await page.evaluate<string[]>(`[...document.querySelectorAll('#receipt-links a')].map((a) => a.getAttribute('href'))`);
    expect(links).toEqual(stored.map((v) => receiptPath(electionId, v.voteId)));
    for (const [i, href] of links.entries()) {
      const body = await page.evaluate<{ status: number; text: string }>(`fetch(${JSON.stringify(href)}).then(async (r) => ({ status: r.status, text: await r.text() }))`);
      expect(body.status, body.text).toBe(200);
      expect(checkReceipt(body.text, parseVerifierKey(vkey)).voteId).toBe(stored[i].voteId);
    }
  });
});
