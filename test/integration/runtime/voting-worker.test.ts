import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaDriver } from '../../../runtime/kafka/driver.js';
import { LevelDbKeyValueStore } from '../../../statestores/leveldb-store.js';
import { testDriver } from '../../support/kafka-io.js';
import { services } from '../../support/services.js';
import { committedRecords, expectExactDedup, votingScenario, waitUntil } from '../../support/voting-scenario.js';
import { startWorker, stopWorker, type WorkerHandle } from '../../support/worker-process.js';

/**
 * Issue 4's promises against the real broker, with `votestream worker` run as child processes the
 * way operators run it: exact dedup, and exact again after kill -9, a lost member, a zombie, and a
 * lost LevelDB directory; `rebuild store` finds no difference in a healthy store and names one in
 * an altered store.
 */
describe('votestream worker: exactly once through crashes', () => {
  let driver: KafkaDriver;
  const dirs: string[] = [];
  const workers: WorkerHandle[] = [];
  const stateDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-worker-'));
    dirs.push(dir);
    return dir;
  };
  const worker = (prefix: string, dir: string, instanceId: string): WorkerHandle => {
    const w = startWorker({ brokers: services().brokers, prefix, stateDir: dir, instanceId, extraArgs: ['--roles', 'dedup'] });
    workers.push(w);
    return w;
  };
  const assigned = (w: WorkerHandle): number[] =>
    w.logs.filter((l) => l.msg === 'partitions assigned').flatMap((l) => l.assigned as number[]);
  /** What a worker owns now: its assignments minus its revocations, replayed in log order. */
  const owned = (w: WorkerHandle): Set<number> => {
    const now = new Set<number>();
    for (const l of w.logs) {
      if (l.msg === 'partitions assigned') for (const p of l.assigned as number[]) now.add(p);
      if (l.msg === 'partitions revoked') for (const p of l.revoked as number[]) now.delete(p);
    }
    return now;
  };

  beforeAll(() => {
    driver = testDriver(services().brokers);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => stopWorker(w, 'SIGKILL')));
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('200,000 votes (20% duplicates, 3 elections, 12 partitions): each voter accepted once, the rest rejected as duplicate', async () => {
    const s = await votingScenario(driver, services(), { votes: 200_000, duplicateRatio: 0.2 });
    expect(s.generated.firstVoteIds.size).toBe(160_000);
    await s.produceVotes();
    const w = worker(s.prefix, stateDir(), 'w-a');
    await expectExactDedup(driver, s);
    expect(await stopWorker(w)).toBe(0);
    expect(assigned(w).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  }, 400_000);

  it('kill -9 mid-stream, then a restart: the same exact result', async () => {
    const s = await votingScenario(driver, services(), { votes: 100_000, duplicateRatio: 0.2, seed: 11 });
    await s.produceVotes();
    const dir = stateDir();
    const first = worker(s.prefix, dir, 'w-k');
    await waitUntil(async () => (await committedRecords(driver, s.topics.votesAccepted)) > 10_000, 120_000, 'some accepted votes');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await committedRecords(driver, s.topics.votesAccepted)).toBeLessThan(80_000 + 200_000);
    worker(s.prefix, dir, 'w-k');
    await expectExactDedup(driver, s);
  }, 400_000);

  it('two workers, one killed: the survivor takes its partitions, restores them, and the result is exact', async () => {
    const s = await votingScenario(driver, services(), { votes: 100_000, duplicateRatio: 0.2, seed: 13 });
    const a = worker(s.prefix, stateDir(), 'w-1');
    const b = worker(s.prefix, stateDir(), 'w-2');
    await waitUntil(async () => assigned(a).length > 0 && assigned(b).length > 0 && new Set([...assigned(a), ...assigned(b)]).size === 12, 90_000, 'both workers assigned');
    await s.produceVotes(0, 50_000);
    await waitUntil(async () => (await committedRecords(driver, s.topics.votesAccepted)) > 20_000, 120_000, 'progress');
    const lost = owned(b);
    expect(lost.size).toBeGreaterThan(0);
    const restoredBefore = a.logs.filter((l) => l.msg === 'store restored').length;
    b.child.kill('SIGKILL');
    await b.exited;
    await s.produceVotes(50_000);
    await expectExactDedup(driver, s);
    // The survivor restored the partitions it took over from their changelog.
    const restored = a.logs
      .filter((l) => l.msg === 'store restored')
      .slice(restoredBefore)
      .map((l) => Number(String(l.task).split('_')[1]));
    expect(new Set(restored)).toEqual(lost);
  }, 400_000);

  it('a zombie (SIGSTOP until its partitions move, then SIGCONT) cannot commit, and the result is exact', async () => {
    const s = await votingScenario(driver, services(), { votes: 100_000, duplicateRatio: 0.2, seed: 17 });
    const a = worker(s.prefix, stateDir(), 'z-1');
    const zombie = worker(s.prefix, stateDir(), 'z-2');
    await waitUntil(async () => assigned(a).length > 0 && assigned(zombie).length > 0, 90_000, 'both workers assigned');
    await s.produceVotes(0, 60_000);
    await waitUntil(async () => (await committedRecords(driver, s.topics.votesAccepted)) > 10_000, 120_000, 'progress');
    zombie.child.kill('SIGSTOP');
    const before = a.logs.length;
    // The session times out (10 s) and the survivor is given every partition.
    await waitUntil(async () => a.logs.slice(before).some((l) => l.msg === 'partitions assigned' && (l.assigned as number[]).length > 0), 90_000, 'partitions moved to the survivor');
    await s.produceVotes(60_000);
    zombie.child.kill('SIGCONT');
    await expectExactDedup(driver, s);
    await waitUntil(
      async () => zombie.logs.some((l) => l.msg === 'transaction failed; rejoining' || l.msg === 'partitions revoked'),
      60_000,
      'the zombie to notice it lost its partitions',
    );
  }, 400_000);

  it('--processes 2 supervises two worker processes and restarts one killed with -9; the result is exact', async () => {
    const s = await votingScenario(driver, services(), { votes: 60_000, duplicateRatio: 0.2, seed: 23 });
    const w = startWorker({ brokers: services().brokers, prefix: s.prefix, stateDir: stateDir(), instanceId: 'sup', extraArgs: ['--roles', 'dedup', '--processes', '2'] });
    workers.push(w);
    await waitUntil(async () => w.logs.filter((l) => l.msg === 'worker process started').length === 2, 30_000, 'two worker processes');
    await s.produceVotes(0, 30_000);
    await waitUntil(async () => (await committedRecords(driver, s.topics.votesAccepted)) > 5_000, 120_000, 'progress');
    const victim = w.logs.find((l) => l.msg === 'worker process started' && l.worker === 1)!.pid as number;
    process.kill(victim, 'SIGKILL');
    await w.waitForLog((l) => l.msg === 'worker process died; restarting' && l.worker === 1, 30_000);
    await w.waitForLog((l) => l.msg === 'worker process started' && l.worker === 1 && l.pid !== victim, 30_000);
    await s.produceVotes(30_000);
    await expectExactDedup(driver, s);
    expect(await stopWorker(w)).toBe(0);
    expect(w.logs.filter((l) => l.msg === 'worker process exited').length).toBe(2);
  }, 400_000);

  it('a lost LevelDB directory is restored from the changelog on restart; rebuild store agrees, then names an altered key', async () => {
    const s = await votingScenario(driver, services(), { votes: 60_000, duplicateRatio: 0.2, seed: 19 });
    const dir = stateDir();
    await s.produceVotes(0, 30_000);
    const first = worker(s.prefix, dir, 'l-1');
    await expectExactDedup(driver, s, 30_000);
    expect(await stopWorker(first)).toBe(0);

    const lostDir = join(dir, `${s.prefix}votestream`, '1_3', 'voters');
    expect(existsSync(lostDir)).toBe(true);
    rmSync(lostDir, { recursive: true, force: true });
    await s.produceVotes(30_000);
    const second = worker(s.prefix, dir, 'l-1');
    await expectExactDedup(driver, s);
    expect(await stopWorker(second)).toBe(0);
    const restores = second.logs.filter((l) => l.msg === 'store restored');
    expect(restores.map((l) => l.task)).toEqual(['1_3']);
    expect(restores[0].records).toBeGreaterThan(0);
    expect(restores[0].recordsPerSecond).toBeGreaterThan(0);

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['dist/cli/main.js', 'rebuild', 'store', '--store', 'voters', '--state-dir', dir, ...args], {
        encoding: 'utf8',
        env: { ...process.env, KAFKA_BROKERS: services().brokers, VOTESTREAM_TOPIC_PREFIX: s.prefix, LOG_LEVEL: 'warn' },
        timeout: 180_000,
      });
    const healthy = cli();
    expect(healthy.stderr).toBe('');
    expect(healthy.status).toBe(0);
    expect(healthy.stdout).toContain('12 partition(s) checked, 0 different');

    const live = new LevelDbKeyValueStore<string>('voters', join(dir, `${s.prefix}votestream`, '1_0', 'voters'));
    await live.open();
    await live.put('e1:intruder', '00000000-0000-4000-8000-000000000000');
    await live.close();
    const altered = cli('--partition', '0');
    expect(altered.status).toBe(5);
    expect(altered.stdout).toContain('missing-in-b   e1:intruder');
    expect(altered.stdout).toContain('1 partition(s) checked, 1 different');
    const swapped = cli('--partition', '0', '--swap');
    expect(swapped.status).toBe(0);
    expect(cli('--partition', '0').stdout).toContain('1 partition(s) checked, 0 different');
  }, 400_000);
});
