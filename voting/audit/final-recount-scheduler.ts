/**
 * The scheduled final recount (issue 12, worker role `audit`): follows the elections and, for each
 * election whose version in force has a `closesAt` in the past and that has no official result
 * yet, proves that the persist path holds every vote with ts <= closesAt, then recounts from
 * DynamoDB, signs and publishes, once. Several workers may run it: publishOfficial's conditional
 * put decides, the others find the same result official ('unchanged').
 *
 * The coverage proof, step by step:
 * 1. Wait until closesAt + closeGraceMs. The gateway stamps `ts` just before it produces and
 *    answers 202 only after Kafka acknowledged, within its ack timeout (10 s by default, then 503);
 *    so a vote accepted with ts <= closesAt is in `votes` by closesAt + that timeout. The grace
 *    must cover it (and the clock difference between the gateway's and this host's clocks).
 * 2. Take the end offsets of every `votes` partition: every such vote lies below them.
 * 3. Wait until the dedup group has committed those offsets (final-recount-coverage.ts). It
 *    commits its input offsets in the transaction of its outputs, so its verdicts on all of those
 *    votes are then committed on `votes-accepted`.
 * 4. Take the read_committed end offsets (LSO) of every `votes-accepted` partition: those
 *    verdicts lie below them.
 * 5. Wait until the persist group has consumed every record below them. The persist sink commits
 *    its offsets only after its DynamoDB writes (DESIGN section 4, sink-fenced), so every accepted
 *    vote of the election is then in its chain; later votes of it are rejected `closed`.
 * Each wait polls, reports its state, and outlives any outage: an infrastructure error is logged
 * and the step retried with backoff; only a result that conflicts with the official one, or a
 * vote log that does not verify, ends the work on an election (logged as an error).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RedisClient } from '../../sinks/redis-client.js';
import type { Registry } from 'prom-client';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { votingGroupId } from '../count-offsets-reset.js';
import { ElectionView } from '../gateway/election-view.js';
import { topicNames } from '../topics.js';
import { describeBehind, GroupCoverage } from './final-recount-coverage.js';
import { FinalRecountGauge, isFinalState, type FinalRecountState, type FinalRecountStatus } from './final-recount-state.js';
import { OfficialConflictError, publishOfficial, readOfficial, signOfficialResult } from './official-result.js';
import { recountElection } from './recount.js';
import { RecountRefusedError } from './recount-chains.js';
import type { NoteSigner } from './signed-note.js';

export const DEFAULT_CLOSE_GRACE_MS = 15_000;

export interface FinalRecountOptions {
  readonly driver: KafkaDriver;
  readonly dynamodb: DynamoDBClient;
  /** The `votestream-votes` table. */
  readonly table: string;
  readonly redis: RedisClient;
  /** Topic and Redis key prefix of the deployment (DESIGN section 3). */
  readonly prefix: string;
  readonly signer: NoteSigner;
  /** The deployment in the checkpoint origin (signing-key.ts deploymentName). */
  readonly deployment: string;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** How long after closesAt an accepted vote may still reach `votes` (see step 1). */
  readonly closeGraceMs?: number;
  /** Between two looks at a waiting step. Default 1000. */
  readonly pollIntervalMs?: number;
  /** The longest backoff after repeated infrastructure errors. Default 30 000. */
  readonly maxBackoffMs?: number;
  readonly nowMs?: () => number;
}

/** An election the scheduler works on, for one `closesAt`. */
interface Plan {
  readonly electionId: string;
  readonly closesAt: number;
  status: FinalRecountStatus;
  readonly done: Promise<void>;
}

export class FinalRecountScheduler {
  readonly #o: FinalRecountOptions;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #graceMs: number;
  readonly #gauge: FinalRecountGauge;
  readonly #plans = new Map<string, Plan>();
  readonly #stop = new AbortController();
  #view: ElectionView | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: FinalRecountOptions) {
    this.#o = options;
    this.#now = options.nowMs ?? Date.now;
    this.#pollMs = options.pollIntervalMs ?? 1_000;
    this.#graceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.#gauge = new FinalRecountGauge(options.registry);
  }

  /** Starts following the elections in the background; returns at once (an outage only delays it). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** The state of every election the scheduler has worked on, by id. */
  statuses(): Map<string, FinalRecountStatus> {
    return new Map([...this.#plans].map(([id, p]) => [id, p.status]));
  }

  status(electionId: string): FinalRecountStatus | undefined {
    return this.#plans.get(electionId)?.status;
  }

  /** Stops every wait; a recount or publish under way finishes first (publishing is idempotent anyway). */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await Promise.all([...this.#plans.values()].map((p) => p.done));
    await this.#view?.close();
  }

  async #run(): Promise<void> {
    this.#view = await this.#retry('reading elections', async () => {
      const view = new ElectionView({ driver: this.#o.driver, logger: this.#o.logger, prefix: this.#o.prefix, nowMs: this.#now });
      await view.start().catch(async (err: unknown) => {
        await view.close().catch(() => undefined);
        throw err;
      });
      return view;
    });
    while (this.#view !== undefined && !this.#stop.signal.aborted) {
      const now = this.#now();
      for (const electionId of this.#view.ids()) {
        const closesAt = this.#view.current(electionId)?.closesAt;
        if (closesAt === undefined || closesAt > now) continue;
        const plan = this.#plans.get(electionId);
        // A new version that moved the close starts the proof again; the old plan ends on its own.
        if (plan?.closesAt === closesAt) continue;
        this.#start(electionId, closesAt);
      }
      await this.#sleep(this.#pollMs);
    }
  }

  #start(electionId: string, closesAt: number): void {
    const plan: { electionId: string; closesAt: number; status: FinalRecountStatus; done: Promise<void> } = {
      electionId,
      closesAt,
      status: { electionId, closesAt, state: 'waiting for grace', since: this.#now() },
      done: Promise.resolve(),
    };
    // In the map first: a plan that is no longer the election's one stops at its next step.
    this.#plans.set(electionId, plan);
    plan.done = this.#work(plan).catch((err: unknown) => {
      // Only a bug gets here (every step handles its own errors): the worker stays up.
      this.#o.logger.error({ err: message(err), electionId }, 'final recount failed unexpectedly');
    });
  }

  async #work(plan: Plan): Promise<void> {
    const { electionId, closesAt } = plan;
    const log = this.#o.logger.child({ electionId, closesAt });
    const current = (): boolean => !this.#stop.signal.aborted && this.#plans.get(electionId) === plan && this.#view?.current(electionId)?.closesAt === closesAt;
    const enter = (state: FinalRecountState, detail?: string, fields: Record<string, unknown> = {}): void => {
      plan.status = { electionId, closesAt, state, since: this.#now(), ...(detail === undefined ? {} : { detail }) };
      this.#gauge.set(electionId, state);
      const line = { state, ...(detail === undefined ? {} : { detail }), ...fields };
      if (state === 'conflict' || state === 'refused') log.error(line, state === 'conflict' ? 'official result conflict; not trying this election again' : 'recount refused; not trying this election again');
      else log.info(line, state);
    };
    const official = await this.#retry('reading the official result', () => readOfficial(this.#o.dynamodb, this.#o.table, electionId), plan);
    if (official !== undefined) return enter('already official', undefined, { root: official.root, total: official.total });
    enter('waiting for grace', `until ${new Date(closesAt + this.#graceMs).toISOString()}`);
    while (current() && this.#now() < closesAt + this.#graceMs) await this.#sleep(Math.min(this.#pollMs, closesAt + this.#graceMs - this.#now()));
    if (!current()) return;

    const topics = topicNames(this.#o.prefix);
    for (const [role, topic] of [['dedup', topics.votes], ['persist', topics.votesAccepted]] as const) {
      const state = role === 'dedup' ? 'waiting for dedup' : 'waiting for persist';
      const coverage = await this.#retry(`taking the end offsets of ${topic}`, () => GroupCoverage.begin({ driver: this.#o.driver, topic, groupId: votingGroupId(this.#o.prefix, role), clientId: `votestream-audit-${role}` }), plan);
      if (coverage === undefined) return;
      enter(state, `end offsets of ${topic}: ${[...coverage.ends].map(([p, o]) => `p${p}=${o}`).join(' ')}`);
      for (;;) {
        if (!current()) return;
        const check = await this.#retry(`checking the ${role} group`, () => coverage.check(), plan);
        if (check === undefined) return;
        if (check.covered) break;
        plan.status = { ...plan.status, detail: describeBehind(check.behind) };
        await this.#sleep(this.#pollMs);
      }
    }
    if (!current()) return;
    enter('recounting');
    try {
      const published = await this.#retry(
        'recounting and publishing',
        async () => {
          const recount = await recountElection({ dynamodb: this.#o.dynamodb, table: this.#o.table, electionId, nowMs: this.#now });
          const result = signOfficialResult(recount, this.#o.signer, this.#o.deployment);
          return publishOfficial({ dynamodb: this.#o.dynamodb, table: this.#o.table, redis: this.#o.redis, prefix: this.#o.prefix, result });
        },
        plan,
        (err) => err instanceof OfficialConflictError || err instanceof RecountRefusedError,
      );
      if (published === undefined) return;
      const fields = { outcome: published.outcome, total: published.result.total, root: published.result.root, msAfterClose: this.#now() - closesAt };
      enter(published.outcome === 'published' ? 'published' : 'already official', undefined, fields);
    } catch (err) {
      if (err instanceof OfficialConflictError) return enter('conflict', err.message);
      if (err instanceof RecountRefusedError) return enter('refused', err.message);
      throw err;
    }
  }

  /**
   * Runs `step` until it succeeds: an error is logged and the step retried with a growing backoff
   * (the worker stays up through any outage). Undefined when stopped or when the plan was replaced;
   * errors `fatal` accepts are thrown to the caller instead.
   */
  async #retry<T>(what: string, step: () => Promise<T>, plan?: Plan, fatal: (err: unknown) => boolean = () => false): Promise<T | undefined> {
    let backoffMs = this.#pollMs;
    while (!this.#stop.signal.aborted && (plan === undefined || this.#plans.get(plan.electionId) === plan)) {
      try {
        return await step();
      } catch (err) {
        if (fatal(err)) throw err;
        this.#o.logger.warn({ err: message(err), electionId: plan?.electionId, retryInMs: backoffMs }, `final recount: ${what} failed; retrying`);
        if (plan !== undefined && !isFinalState(plan.status.state)) plan.status = { ...plan.status, lastError: message(err) };
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.#o.maxBackoffMs ?? 30_000);
      }
    }
    return undefined;
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
