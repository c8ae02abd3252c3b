import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelDbKeyValueStore } from '../../../statestores/leveldb-store.js';
import { topicNames } from '../../../voting/topics.js';
import { cliEnv, runCli } from '../../support/cli.js';
import { readAll, TEST_DRIVER } from '../../support/kafka-io.js';
import { waitUntil } from '../../support/poll.js';
import {
  checkDedup,
  committedRecords,
  makeVotes,
  produceVotes,
  runWorker,
  setupPipeline,
  track,
  waitForDedupCaughtUp,
  type Pipeline,
  type VoteSet,
} from '../../support/scenario.js';
import { metricSum, scrapeMetrics, startWorker, stopWorker, type WorkerHandle } from '../../support/worker-process.js';

/** Assignments a worker logged, in order, all generations together. */
const assigned = (w: WorkerHandle): number[] => w.logs.filter((l) => l.msg === 'partitions assigned').flatMap((l) => l.assigned as number[]);

/** What a worker owns after its first `upTo` log lines: assignments minus revocations, in log order. */
function owned(w: WorkerHandle, upTo = w.logs.length): Set<number> {
  const now = new Set<number>();
  for (const l of w.logs.slice(0, upTo)) {
    if (l.msg === 'partitions assigned') for (const p of l.assigned as number[]) now.add(p);
    if (l.msg === 'partitions revoked') for (const p of l.revoked as number[]) now.delete(p);
  }
  return now;
}

const ALL = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const sorted = (s: Iterable<number>): number[] => [...s].sort((a, b) => a - b);

/**
 * Issue 4's promises against the real broker, with `votestream worker --roles dedup` run as child
 * processes the way operators run it: exact dedup, and exact again after kill -9, a lost member, a
 * zombie, and a lost LevelDB directory; `rebuild store` finds no difference in a healthy store and
 * names one in an altered store. Outputs are read only once the dedup group has committed the end
 * of `votes` and the workers are stopped, so nothing can still be written behind the check.
 */
describe('votestream worker: exactly once through crashes', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.cleanup();
    p = undefined;
  });

  async function scenario(label: string, votes: number, seed: number): Promise<{ p: Pipeline; set: VoteSet }> {
    p = await setupPipeline(label, 3);
    return { p, set: makeVotes(p, votes, seed, 0.2) };
  }
  const dedupWorker = (pl: Pipeline, instanceId: string, stateDir = pl.newStateDir(instanceId)) => runWorker(pl, { instanceId, stateDir, roles: ['dedup'] });
  /** Accepted votes committed on `votes-accepted` now (read_committed records, not offsets: markers take offsets too). */
  const acceptedNow = async (pl: Pipeline) => (await readAll(pl.driver, topicNames(pl.prefix).votesAccepted, 0, 60_000)).length;

  it('200,000 votes (20% duplicates, 3 elections, 12 partitions): each voter accepted once, the rest rejected as duplicate; the metrics agree', async () => {
    const { p, set } = await scenario('vw-big', 200_000, 7);
    expect(set.firstVoteIds.size).toBe(160_000);
    await produceVotes(p, set.votes);
    const w = await dedupWorker(p, 'w-a');
    await waitForDedupCaughtUp(p);
    const votesTopic = topicNames(p.prefix).votes;
    // The lag gauge refreshes on its own period: wait for the refresh that saw the end.
    await waitUntil(async () => {
      const m = await scrapeMetrics(w);
      return ALL.every((partition) => m.some((s) => s.name === 'votestream_consumer_lag' && s.labels.topic === votesTopic && s.labels.partition === String(partition) && s.value === 0));
    }, 'consumer lag 0 on every partition of votes');
    const m = await scrapeMetrics(w);
    // A lone worker on a fresh group: nothing aborted, nothing to restore, one rebalance metered per assignment logged.
    expect(metricSum(m, 'votestream_aborts_total')).toBe(0);
    expect(metricSum(m, 'votestream_restored_records_total')).toBe(0);
    expect(metricSum(m, 'votestream_rebalances_total')).toBe(w.logs.filter((l) => l.msg === 'partitions assigned').length);
    expect(metricSum(m, 'votestream_commits_total')).toBeGreaterThan(0);
    expect(metricSum(m, 'votestream_task_records_in_total')).toBe(200_000);
    expect(await stopWorker(w)).toBe(0);
    expect(sorted(assigned(w))).toEqual(ALL);
    await checkDedup(p, set);
  }, 400_000);

  it('kill -9 mid-stream, then a restart: the same exact result', async () => {
    const { p, set } = await scenario('vw-kill', 100_000, 11);
    await produceVotes(p, set.votes);
    const dir = p.newStateDir('w-k');
    const first = await dedupWorker(p, 'w-k', dir);
    await waitUntil(async () => (await committedRecords(p, topicNames(p.prefix).votesAccepted)) > 5_000, 'some accepted votes', { timeoutMs: 120_000 });
    await stopWorker(first, 'SIGKILL');
    // The kill landed mid-stream: some accepted votes were committed, not all of them.
    const atKill = await acceptedNow(p);
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(set.firstVoteIds.size);
    const second = await dedupWorker(p, 'w-k', dir);
    await waitForDedupCaughtUp(p);
    expect(await stopWorker(second)).toBe(0);
    await checkDedup(p, set);
  }, 400_000);

  it('two workers, one killed: the survivor takes its partitions, restores them, and the result is exact', async () => {
    const { p, set } = await scenario('vw-lost', 100_000, 13);
    const a = await dedupWorker(p, 'w-1');
    const b = await dedupWorker(p, 'w-2');
    await waitUntil(() => owned(a).size > 0 && owned(b).size > 0 && owned(a).size + owned(b).size === 12, 'both workers assigned', { timeoutMs: 90_000 });
    await produceVotes(p, set.votes.slice(0, 50_000));
    await waitUntil(async () => (await committedRecords(p, topicNames(p.prefix).votesAccepted)) > 20_000, 'progress', { timeoutMs: 120_000 });
    const lost = owned(b);
    expect(lost.size).toBeGreaterThan(0);
    const restoredBefore = a.logs.filter((l) => l.msg === 'store restored').length;
    await stopWorker(b, 'SIGKILL');
    // What the survivor must restore: every vote accepted on a lost partition until the kill (its
    // changelog holds one record per accepted vote, and the survivor held none of it before).
    const changelogAtKill = new Map<number, number>();
    for (const r of await readAll(p.driver, topicNames(p.prefix).votesAccepted, 0)) {
      if (lost.has(r.partition)) changelogAtKill.set(r.partition, (changelogAtKill.get(r.partition) ?? 0) + 1);
    }
    await produceVotes(p, set.votes.slice(50_000));
    await waitForDedupCaughtUp(p);
    expect(sorted(owned(a))).toEqual(ALL);
    expect(await stopWorker(a)).toBe(0);
    await checkDedup(p, set);
    // The survivor restored the partitions it took over from their changelog, record for record.
    const restored = new Map<number, number>();
    for (const l of a.logs.filter((x) => x.msg === 'store restored').slice(restoredBefore)) {
      const partition = Number(String(l.task).split('_')[1]);
      restored.set(partition, (restored.get(partition) ?? 0) + Number(l.records));
    }
    // On kafkajs a member works through its partitions a fetch batch (up to 1 MiB of one partition)
    // at a time, so at the kill it may not have committed anything yet on the last of them: such a
    // partition has nothing to restore. On platformatic a fetch interleaves them all.
    expect(restored).toEqual(changelogAtKill);
    if (TEST_DRIVER === 'platformatic') expect(new Set(restored.keys())).toEqual(lost);
    else expect(restored.size).toBeGreaterThanOrEqual(lost.size - 1);
  }, 400_000);

  it('a zombie (SIGSTOP until its partitions move, then SIGCONT) is fenced on its next commit, and the result is exact', async () => {
    const { p, set } = await scenario('vw-zombie', 100_000, 17);
    const a = await dedupWorker(p, 'z-1');
    const zombie = await dedupWorker(p, 'z-2');
    await waitUntil(() => owned(a).size > 0 && owned(zombie).size > 0 && owned(a).size + owned(zombie).size === 12, 'both workers assigned', { timeoutMs: 90_000 });
    await produceVotes(p, set.votes.slice(0, 60_000));
    await waitUntil(async () => (await committedRecords(p, topicNames(p.prefix).votesAccepted)) > 10_000, 'progress', { timeoutMs: 120_000 });
    zombie.child.kill('SIGSTOP');
    expect(owned(zombie).size).toBeGreaterThan(0);
    // The session times out (10 s) and the survivor is given every partition.
    await waitUntil(() => owned(a).size === 12, 'the survivor to own all 12 partitions', { timeoutMs: 90_000 });
    expect(sorted(owned(a))).toEqual(ALL);
    // Records on its old partitions wait for the zombie's fetch: on SIGCONT it processes them and
    // tries to commit with the generation it had.
    await produceVotes(p, set.votes.slice(60_000));
    const resumedAt = Date.now();
    zombie.child.kill('SIGCONT');
    // Only a line logged after SIGCONT counts (pino's ISO time, ms), keyed on the fence kind.
    const fence = await zombie.waitForLog(
      (l) => (l.kind === 'group' || l.kind === 'producer') && Date.parse(String(l.time)) >= resumedAt,
      90_000,
    );
    expect(['group', 'producer']).toContain(fence.kind);
    await waitForDedupCaughtUp(p);
    // Every fence the zombie logged is one abort metered with its kind, and the other way round.
    const zm = await scrapeMetrics(zombie);
    for (const kind of ['group', 'producer']) {
      const logged = zombie.logs.filter((l) => l.kind === kind).length;
      expect(metricSum(zm, 'votestream_aborts_total', { reason: `fenced-${kind}` }), `fenced-${kind} aborts`).toBe(logged);
    }
    expect(await stopWorker(a)).toBe(0);
    expect(await stopWorker(zombie)).toBe(0);
    await checkDedup(p, set);
  }, 400_000);

  it('--processes 2 supervises two worker processes and restarts one killed with -9; the result is exact', async () => {
    const { p, set } = await scenario('vw-sup', 60_000, 23);
    const w = startWorker({ brokers: p.brokers, prefix: p.prefix, stateDir: p.newStateDir('sup'), instanceId: 'sup', extraArgs: ['--roles', 'dedup', '--processes', '2'] });
    track(p, w);
    await waitUntil(() => w.logs.filter((l) => l.msg === 'worker process started').length === 2, 'two worker processes', { timeoutMs: 30_000 });
    await produceVotes(p, set.votes.slice(0, 30_000));
    await waitUntil(async () => (await committedRecords(p, topicNames(p.prefix).votesAccepted)) > 5_000, 'progress', { timeoutMs: 120_000 });
    const victim = w.logs.find((l) => l.msg === 'worker process started' && l.worker === 1)!.pid as number;
    process.kill(victim, 'SIGKILL');
    await w.waitForLog((l) => l.msg === 'worker process died; restarting' && l.worker === 1, 30_000);
    await w.waitForLog((l) => l.msg === 'worker process started' && l.worker === 1 && l.pid !== victim, 30_000);
    await produceVotes(p, set.votes.slice(30_000));
    await waitForDedupCaughtUp(p);
    expect(await stopWorker(w)).toBe(0);
    expect(w.logs.filter((l) => l.msg === 'worker process exited').length).toBe(2);
    await checkDedup(p, set);
  }, 400_000);

  it('a lost LevelDB directory is restored from the changelog on restart, record for record; rebuild store agrees, then names an altered key', async () => {
    const { p, set } = await scenario('vw-level', 60_000, 19);
    const firstHalf: VoteSet = { votes: set.votes.slice(0, 30_000), firstVoteIds: new Map() };
    for (const v of firstHalf.votes) if (!firstHalf.firstVoteIds.has(`${v.electionId}:${v.voterId}`)) firstHalf.firstVoteIds.set(`${v.electionId}:${v.voterId}`, v.voteId);
    const dir = p.newStateDir('l-1');
    await produceVotes(p, firstHalf.votes);
    const first = await dedupWorker(p, 'l-1', dir);
    await waitForDedupCaughtUp(p);
    expect(await stopWorker(first)).toBe(0);
    await checkDedup(p, firstHalf);
    // Partition 3's changelog holds one record per vote accepted there (the store's only writes).
    const acceptedOn3 = (await readAll(p.driver, topicNames(p.prefix).votesAccepted, 0)).filter((r) => r.partition === 3).length;
    expect(acceptedOn3).toBeGreaterThan(0);

    const lostDir = join(dir, `${p.prefix}votestream`, '1_3', 'voters');
    expect(existsSync(lostDir)).toBe(true);
    rmSync(lostDir, { recursive: true, force: true });
    await produceVotes(p, set.votes.slice(30_000));
    const second = await dedupWorker(p, 'l-1', dir);
    await waitForDedupCaughtUp(p);
    const m = await scrapeMetrics(second);
    expect(metricSum(m, 'votestream_restored_records_total', { task: '1_3' })).toBe(acceptedOn3);
    expect(metricSum(m, 'votestream_restored_records_total')).toBe(acceptedOn3);
    expect(metricSum(m, 'votestream_restore_records_remaining')).toBe(0);
    expect(await stopWorker(second)).toBe(0);
    await checkDedup(p, set);
    const restores = second.logs.filter((l) => l.msg === 'store restored');
    expect(restores.map((l) => [l.task, l.records])).toEqual([['1_3', acceptedOn3]]);
    expect(restores[0].recordsPerSecond).toBeGreaterThan(0);

    const env = cliEnv({ brokers: p.brokers, prefix: p.prefix });
    const cli = (...args: string[]) => runCli(['rebuild', 'store', '--store', 'voters', '--state-dir', dir, ...args], env, 180_000);
    const healthy = cli();
    expect(healthy.stderr).toBe('');
    expect(healthy.status).toBe(0);
    expect(healthy.stdout).toContain('12 partition(s) checked, 0 different');

    const live = new LevelDbKeyValueStore<string>('voters', join(dir, `${p.prefix}votestream`, '1_0', 'voters'));
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

