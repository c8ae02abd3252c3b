import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../infra/managed-process.js';
import { stackConfig } from '../../infra/stack-config.js';
import { stackDown, stackStatus, stackUp } from '../../infra/stack.js';

/**
 * A second, private stack on other ports (offset 200) and its own data directory: up, status,
 * down (no process left), and up again, without touching the stack the other tests use.
 */
describe('local stack lifecycle', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vs-stack-'));
  const config = stackConfig({ dataDir, portOffset: 200 });
  afterAll(async () => {
    await stackDown(config);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('up starts all three healthy, a second up reuses them, down leaves none running, up again works', async () => {
    const first = await stackUp(config);
    expect(Object.values(first).map((r) => [r.action, r.healthy, r.managed])).toEqual([
      ['started', true, true],
      ['started', true, true],
      ['started', true, true],
    ]);
    expect([first.kafka.address, first.redis.address, first.dynamodb.address]).toEqual([
      '127.0.0.1:19292',
      'redis://127.0.0.1:16579',
      'http://127.0.0.1:18200',
    ]);
    const pids = Object.values(first).map((r) => r.pid as number);

    const again = await stackUp(config);
    expect(Object.values(again).map((r) => [r.action, r.pid])).toEqual(pids.map((pid) => ['reused', pid]));

    const status = await stackStatus(config);
    expect(Object.values(status).map((s) => s.healthy)).toEqual([true, true, true]);

    expect(await stackDown(config)).toEqual({ kafka: true, redis: true, dynamodb: true });
    expect(pids.map(isAlive)).toEqual([false, false, false]);
    expect(Object.values(await stackStatus(config)).map((s) => [s.healthy, s.managed])).toEqual([
      [false, false],
      [false, false],
      [false, false],
    ]);

    const third = await stackUp(config);
    expect(Object.values(third).map((r) => [r.action, r.healthy])).toEqual([
      ['started', true],
      ['started', true],
      ['started', true],
    ]);
  }, 240_000);
});
