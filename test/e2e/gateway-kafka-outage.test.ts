import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackConfig } from '../../infra/stack-config.js';
import { stackDown, stackUp, stopServices } from '../../infra/stack.js';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { electionRecord } from '../../voting/election-publisher.js';
import { startGateway, type RunningGateway } from '../../voting/gateway/gateway.js';
import { issueToken } from '../../voting/gateway/token-issuer.js';
import { topicNames } from '../../voting/topics.js';
import { createVotingTopics, produce, readTopic, testDriver } from '../support/kafka-io.js';
import { waitUntil } from '../support/poll.js';
import { services } from '../support/services.js';

const SECRET = 'outage-test-secret-of-at-least-32-bytes-xyz';

/**
 * The gateway on a Kafka of its own (a private stack on other ports, its Redis and DynamoDB the
 * shared ones): the broker is stopped and started again under it.
 */
describe('the gateway through a Kafka outage', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-gw-outage-'));
  const config = stackConfig({ dataDir, portOffset: 300 });
  const brokers = `127.0.0.1:${config.kafka.port}`;
  const external = { redis: services().redis, dynamodb: services().dynamodbEndpoint };
  let driver: KafkaDriver;
  let gateway: RunningGateway;
  let base: string;
  let n = 0;

  const vote = async (): Promise<{ status: number; voteId?: string; retryAfter: string | null; error?: string }> => {
    const voterId = `v${n++}`;
    const token = await issueToken({ voterId, ttlSec: 600, algorithm: 'HS256', key: SECRET });
    const res = await fetch(`${base}/v1/elections/e1/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ candidateId: 'c1' }),
    });
    const json = (await res.json()) as { voteId?: string; error?: string };
    return { status: res.status, voteId: json.voteId, error: json.error, retryAfter: res.headers.get('retry-after') };
  };

  beforeAll(async () => {
    await stackUp(config, { external });
    driver = testDriver(brokers);
    await createVotingTopics(driver, '', 2);
    const now = Date.now();
    await produce(driver, [
      electionRecord({ electionId: 'e1', version: 1, effectiveAt: now - 60_000, title: 'E1', candidates: [{ id: 'c1', name: 'C1' }], regions: [], opensAt: now - 60_000, closesAt: now + 3_600_000 }),
    ]);
    gateway = await startGateway({
      driver,
      logger: createLogger({ level: 'silent' }),
      registry: createMetricsRegistry(),
      env: { VOTESTREAM_TOKEN_SECRET: SECRET },
      config: { host: '127.0.0.1', port: 0, ackTimeoutMs: 3000 },
    });
    base = `http://127.0.0.1:${gateway.port}`;
  }, 240_000);

  afterAll(async () => {
    await gateway?.close();
    await stackDown(config);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('answers 503 with Retry-After while Kafka is down, never 202, stays up, and takes votes again when it returns', async () => {
    const before = await vote();
    expect(before.status).toBe(202);
    const acked = [before.voteId!];

    await stopServices(config, ['kafka']);
    const during = await vote();
    expect(during).toMatchObject({ status: 503, error: 'unavailable' });
    expect(Number(during.retryAfter)).toBeGreaterThanOrEqual(1);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons).toContain('the last produce to Kafka failed');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await stackUp(config, { external });
    let after = await vote();
    await waitUntil(
      async () => {
        if (after.status === 202) return true;
        expect(after.status).toBe(503);
        after = await vote();
        return after.status === 202;
      },
      'a 202 after Kafka came back',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    acked.push(after.voteId!);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // Every 202 is in `votes`. A vote answered 503 may still land (its produce went on after the
    // answer): that is why clients retry with their voteId, which dedup then rejects as a duplicate.
    const landed = (await readTopic(driver, topicNames('').votes)).map((r) => (JSON.parse(r.value!.toString()) as { voteId: string }).voteId);
    for (const id of acked) expect(landed).toContain(id);
    expect(landed.length).toBeLessThanOrEqual(n);
  }, 240_000);
});
