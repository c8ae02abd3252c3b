/**
 * Which faults a chaos run injects, in which order, and after which pauses: a pure function of the
 * seed, so a failing run is replayed exactly by giving its seed again.
 */
import { prng } from '../../voting/vote-generator.js';

export const FAULT_KINDS = [
  /** kill -9 of a worker process, restarted a moment later with its state dir (a crash). */
  'kill-worker',
  /** SIGSTOP of a worker past the group's session timeout, then SIGCONT: a zombie that must be fenced. */
  'zombie-worker',
  /** A worker started during the load, and later one stopped gracefully (a rebalance each way). */
  'scale-out-in',
  /** kill -9 of one broker of several, restarted after a while (needs --kafka-brokers >= 3). */
  'kill-broker',
  /** Every broker killed at once; Kafka is away for the outage, then restarted. */
  'kafka-outage',
  /** One Redis Cluster master killed -9 and restarted from its AOF (needs --redis-cluster). */
  'kill-redis-master',
  /** Single-node Redis killed -9 and restarted empty: its data is lost. */
  'redis-restart-lose-data',
  /** DynamoDB Local killed -9 and restarted (in memory: empty; with --persist: from disk). */
  'restart-dynamodb',
  /** The gateway killed -9 and restarted on its port. */
  'kill-gateway',
  /** The feed killed -9 and restarted on its port. */
  'kill-feed',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ScheduledFault {
  readonly kind: FaultKind;
  /** Pause before injecting it, after the previous fault healed (ms). */
  readonly pauseMs: number;
  /** A draw in [0, 1) that picks the target (which worker, which broker), fixed by the seed. */
  readonly pick: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  /** How many times each kind is injected. */
  readonly repeat: number;
  /** Pauses between faults are drawn in [minPauseMs, maxPauseMs). */
  readonly minPauseMs: number;
  readonly maxPauseMs: number;
}

/** Every kind `repeat` times, shuffled (Fisher-Yates on the seeded PRNG), each with its pause. */
export function faultSchedule(o: ScheduleOptions): ScheduledFault[] {
  const random = prng(o.seed);
  const kinds = o.kinds.flatMap((kind) => Array.from({ length: o.repeat }, () => kind));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds.map((kind) => ({ kind, pauseMs: Math.round(o.minPauseMs + random() * (o.maxPauseMs - o.minPauseMs)), pick: random() }));
}

/** The faults a stack of this shape can take: one broker of one is an outage, a cluster master needs a cluster. */
export function applicableFaults(stack: { readonly kafkaBrokers: number; readonly redisCluster: boolean }): FaultKind[] {
  return FAULT_KINDS.filter((kind) => {
    if (kind === 'kill-broker') return stack.kafkaBrokers >= 3;
    if (kind === 'kill-redis-master') return stack.redisCluster;
    if (kind === 'redis-restart-lose-data') return !stack.redisCluster;
    return true;
  });
}
