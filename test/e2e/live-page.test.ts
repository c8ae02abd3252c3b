import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { StreamsApp } from '../../runtime/streams-app.js';
import type { Election } from '../../voting/election.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { startFeed, type RunningFeed } from '../../voting/feed/feed.js';
import { startGateway, type RunningGateway } from '../../voting/gateway/gateway.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { countsKey, offsetsKey, officialKey, regionsKey, updatesChannel } from '../../voting/redis-keys.js';
import { topicNames, topicSpecs } from '../../voting/topics.js';
import { votingApplicationId, votingTopology } from '../../voting/topology.js';
import { createVotingTopics, produce, testDriver } from '../support/kafka-io.js';
import { freePort } from '../support/redis-server.js';
import { services, uniquePrefix } from '../support/services.js';

/**
 * The live page (voting/page/) in Debian's chromium, driven by playwright-core (never a downloaded
 * browser), against the real pieces: the gateway, the dedup and count path to Redis, and the feed.
 */
const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789';
const SCREENSHOT_DIR = 'test-results';

describe('the live page in a browser', () => {
  const prefix = uniquePrefix('page');
  const electionId = `${prefix}e`;
  const now = Date.now();
  const election: Election = {
    electionId,
    version: 1,
    effectiveAt: now - 60_000,
    title: 'Board election (browser test)',
    candidates: [
      { id: 'ada', name: 'Ada' },
      { id: 'grace', name: 'Grace' },
      { id: 'linus', name: 'Linus' },
    ],
    regions: ['north', 'south'],
    opensAt: now - 60_000,
    closesAt: now + 3_600_000,
  };
  const logger = createLogger({ level: 'silent' });
  let driver: KafkaDriver;
  let app: StreamsApp;
  let stateDir: string;
  let gateway: RunningGateway;
  let feed: RunningFeed;
  let feedPort: number;
  let origin: string;
  let gatewayUrl: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  const startOurFeed = (): Promise<RunningFeed> =>
    startFeed({
      logger,
      registry: createMetricsRegistry(),
      driver,
      // Dev mode's throwaway voters, as `votestream dev` hands them to the page.
      demoToken: async (id) => {
        const voterId = `demo-${randomUUID()}`;
        return { voterId, token: await issueToken({ voterId, electionId: id, ttlSec: 600, algorithm: 'HS256', key: SECRET }) };
      },
      config: { host: '127.0.0.1', port: feedPort, prefix, redis: services().redis, gatewayUrl, intervalMs: 100 },
    });

  /** A vote through the gateway over HTTP, as a voter's own client would cast it. */
  const voteOverHttp = async (voterId: string, candidateId: string, region?: string): Promise<void> => {
    const token = await issueToken({ voterId, ttlSec: 600, algorithm: 'HS256', key: SECRET });
    const res = await fetch(`${gatewayUrl}/v1/elections/${electionId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ candidateId, ...(region === undefined ? {} : { region }) }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
  };

  /** Votes with the page's form: a click on the candidate's button, then the gateway's answer on the page. */
  const voteWithForm = async (name: string): Promise<void> => {
    await page.getByRole('button', { name, exact: true }).click();
    await expect.poll(() => page.locator('#vote-result').textContent(), { timeout: 15_000 }).toBe(`Your vote for ${name} was accepted for counting.`);
  };

  const connState = (): Promise<string | null> => page.locator('#conn').getAttribute('data-state');

  /**
   * What the page shows, read in one go: the total, and per candidate the name, count, share and bar
   * width. (Scripts as strings: this project's TypeScript has no DOM types.)
   */
  const shown = (): Promise<{ total: string; rows: string[][] }> =>
    page.evaluate<{ total: string; rows: string[][] }>(`({
      total: document.getElementById('total').textContent,
      rows: [...document.querySelectorAll('#candidates li')].map((li) =>
        [li.querySelector('.name').textContent, li.querySelector('.count').textContent, li.querySelector('.share').textContent, li.querySelector('.bar > span').style.width]),
    })`);

  const regionsShown = (): Promise<string[][]> => page.evaluate<string[][]>(`[...document.querySelectorAll('#regions tr')].map((tr) => [...tr.children].map((c) => c.textContent))`);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Debian's chromium is missing at ${CHROMIUM}: apt-get install chromium (.ci/run installs it)`);
    driver = testDriver(services().brokers);
    await createVotingTopics(driver, prefix, 3);
    await produce(driver, [electionRecord(election, prefix)]);
    stateDir = mkdtempSync(join(tmpdir(), 'vs-page-'));
    app = new StreamsApp(
      votingTopology({ prefix, roles: ['dedup', 'count'], redis: services().redis, logger }),
      { applicationId: votingApplicationId(prefix), brokers: services().brokers, stateDir, commitIntervalMs: 100, processingExceptionHandler: 'dead-letter', processingDeadLetterTopic: topicNames(prefix).votesDlq },
      { logger },
    );
    await app.start();
    // The page's origin must be known to the gateway (CORS) before the feed can tell the page where the gateway is.
    feedPort = await freePort();
    origin = `http://127.0.0.1:${feedPort}`;
    gateway = await startGateway({
      driver,
      logger,
      registry: createMetricsRegistry(),
      env: { VOTESTREAM_TOKEN_SECRET: SECRET },
      config: { host: '127.0.0.1', port: 0, prefix, corsOrigins: [origin] },
    });
    gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    feed = await startOurFeed();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    // A phone's width: the page must work there.
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => {
      const o = new URL(r.url()).origin;
      if (o !== origin && o !== gatewayUrl && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await feed?.close();
    await gateway?.close();
    await app?.close();
    if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
    const redis = new Redis(services().redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.del(countsKey(electionId, prefix), regionsKey(electionId, prefix), offsetsKey(electionId, prefix), officialKey(electionId, prefix)).catch(() => undefined);
    redis.disconnect();
    if (driver !== undefined) {
      const admin = driver.createAdmin();
      await admin.deleteTopics(topicSpecs({ prefix }).map((s) => s.name)).catch(() => undefined);
      await admin.close();
    }
  });

  it('lists the election on the front page, linked to its live page', async () => {
    await page.goto(`${origin}/`);
    const link = page.getByRole('link', { name: election.title });
    await expect.poll(() => link.getAttribute('href'), { timeout: 15_000 }).toBe(`/elections/${electionId}`);
    await link.click();
    await page.waitForURL(`${origin}/elections/${electionId}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toBe(election.title);
    await expect.poll(connState, { timeout: 15_000 }).toBe('live');
    expect(await shown()).toEqual({
      total: '0',
      rows: [
        ['Ada', '0', '0.0%', '0%'],
        ['Grace', '0', '0.0%', '0%'],
        ['Linus', '0', '0.0%', '0%'],
      ],
    });
  });

  it('shows the exact counts of the votes cast with its form and through the gateway', async () => {
    await voteWithForm('Ada');
    await voteWithForm('Grace');
    await voteWithForm('Ada');
    await voteOverHttp('h1', 'grace', 'north');
    await voteOverHttp('h2', 'grace', 'north');
    await voteOverHttp('h3', 'linus', 'south');
    await voteOverHttp('h1', 'linus', 'south'); // h1 again: a duplicate, not counted
    await expect
      .poll(shown, { timeout: 60_000, interval: 200 })
      .toEqual({
        total: '6',
        rows: [
          ['Ada', '2', '33.3%', '33.33%'],
          ['Grace', '3', '50.0%', '50%'],
          ['Linus', '1', '16.7%', '16.67%'],
        ],
      });
    expect(await regionsShown()).toEqual([
      ['Region', 'Ada', 'Grace', 'Linus', 'Total'],
      ['north', '0', '2', '0', '2'],
      ['south', '0', '0', '1', '1'],
    ]);
    expect(await page.locator('#updated').textContent()).not.toBe('waiting for the first count');
    // The votes per second chart has bars for these votes.
    expect(await page.locator('#rate-bars rect').count()).toBeGreaterThan(0);
    expect(Number(await page.locator('#rate-peak').textContent())).toBeGreaterThan(0);
    // Nothing is wider than the phone's screen.
    expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  });

  it('goes to reconnecting when the feed restarts, and back to live with the counts of the outage', async () => {
    await feed.close();
    await expect.poll(connState, { timeout: 15_000, interval: 50 }).toBe('reconnecting');
    // Votes while the page cannot hear about them.
    await voteOverHttp('h4', 'linus', 'south');
    await voteOverHttp('h5', 'ada', 'north');
    feed = await startOurFeed();
    await expect.poll(connState, { timeout: 30_000, interval: 100 }).toBe('live');
    await expect
      .poll(shown, { timeout: 60_000, interval: 200 })
      .toEqual({
        total: '8',
        rows: [
          ['Ada', '3', '37.5%', '37.5%'],
          ['Grace', '3', '37.5%', '37.5%'],
          ['Linus', '2', '25.0%', '25%'],
        ],
      });
  });

  it('shows the official result and its root once published', async () => {
    expect(await page.locator('#official').isHidden()).toBe(true);
    const root = 'c0ffee'.repeat(10) + 'abcd';
    const redis = new Redis(services().redis, { maxRetriesPerRequest: 1 });
    try {
      // As the audit writes it (DESIGN section 3), then the update that makes the feed reread.
      await redis.hset(officialKey(electionId, prefix), { ada: '3', grace: '3', linus: '2', _total: '8', _root: root, _verifiedAt: String(Date.now()), _checkpoint: `votestream/test/${electionId}\n8\n...` });
      await redis.publish(updatesChannel(electionId, prefix), 'official');
    } finally {
      redis.disconnect();
    }
    await expect.poll(() => page.locator('#official').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator('#official-root').textContent()).toBe(root);
    expect(await page.evaluate<string[][]>(`[...document.querySelectorAll('#official-table tr')].map((tr) => [...tr.children].map((c) => c.textContent))`)).toEqual([
      ['Candidate', 'Votes', 'Share'],
      ['Ada', '3', '37.5%'],
      ['Grace', '3', '37.5%'],
      ['Linus', '2', '25.0%'],
      ['Total', '8', ''],
    ]);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'live-page.png'), fullPage: true, animations: 'disabled' });
  });

  it('falls back to server-sent events when WebSocket fails, and hides the vote form on a results-only feed', async () => {
    // A feed without a gateway or demo tokens: what a public deployment runs.
    const resultsOnly = await startFeed({ logger, registry: createMetricsRegistry(), driver, config: { host: '127.0.0.1', port: 0, prefix, redis: services().redis, intervalMs: 100 } });
    const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    try {
      // A WebSocket that never opens (a proxy that refuses upgrades).
      await context.addInitScript(`window.WebSocket = class { constructor() { setTimeout(() => { this.onerror?.({}); this.onclose?.({ code: 1006, reason: '' }); }, 0); } close() {} };`);
      const sse = await context.newPage();
      sse.on('pageerror', (e) => pageErrors.push(e.message));
      await sse.goto(`http://127.0.0.1:${resultsOnly.port}/elections/${electionId}`);
      await expect.poll(() => sse.locator('#conn').textContent(), { timeout: 15_000 }).toBe('live');
      expect(await sse.locator('#conn-detail').textContent()).toBe('(server-sent events)');
      await expect.poll(() => sse.locator('#total').textContent(), { timeout: 15_000 }).toBe('8');
      await voteOverHttp('h6', 'grace', 'south');
      await expect.poll(() => sse.locator('#total').textContent(), { timeout: 60_000, interval: 200 }).toBe('9');
      expect(await sse.locator('li[data-candidate-id="grace"] .count').textContent()).toBe('4');
      expect(await sse.locator('#vote').isHidden()).toBe(true);
    } finally {
      await context.close();
      await resultsOnly.close();
    }
  });

  it('says so for an election that does not exist, and stops connecting', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${origin}/elections/${prefix}nope`);
      await expect.poll(() => other.getByRole('alert').textContent(), { timeout: 15_000 }).toBe(`There is no election "${prefix}nope".`);
      expect(await other.locator('#conn').getAttribute('data-state')).toBe('offline');
      expect(await other.locator('#vote').isHidden()).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('made no request to any other origin and threw no error', () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
