/**
 * Each fault a chaos run can inject: what it does to which process, how long it lasts, and how it
 * heals. A fault returns only once healed, so faults never overlap and the report can say exactly
 * what was broken when.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosPipeline } from './chaos-pipeline.js';
import type { FaultKind, ScheduledFault } from './fault-schedule.js';

/** The stack's nodes as a chaos run drives them (infra/stack-nodes.ts underneath). */
export interface StackControl {
  readonly kafkaNodes: readonly string[];
  readonly redisNodes: readonly string[];
  readonly dynamodbNode: string;
  /** kill -9 of the node's process group; resolves once it is gone. */
  kill(node: string): Promise<void>;
  /** Starts the node again (with its data, unless `wipe`) and resolves once it is healthy. */
  start(node: string, options?: { readonly wipe?: boolean }): Promise<void>;
}

export interface FaultTimings {
  /** How long a zombie stays stopped: past the group's session timeout (10 s by default). */
  readonly zombieMs: number;
  /** How long every broker stays down in a Kafka outage. */
  readonly kafkaOutageMs: number;
  /** How long a single broker, Redis master or DynamoDB stays down. */
  readonly nodeDownMs: number;
  /** How long a killed worker, gateway or feed stays down before its restart. */
  readonly processDownMs: number;
  /** How long an added worker runs before one is scaled in. */
  readonly scaleHoldMs: number;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  /** ms since the load started. */
  readonly injectedAtMs: number;
  readonly healedAtMs: number;
  readonly detail: string;
}

export interface FaultContext {
  readonly pipeline: ChaosPipeline;
  readonly stack: StackControl;
  readonly timings: FaultTimings;
  /** ms since the load started. */
  readonly now: () => number;
}

function pickOf<T>(list: readonly T[], pick: number): T {
  return list[Math.min(list.length - 1, Math.floor(pick * list.length))];
}

export async function injectFault(fault: ScheduledFault, ctx: FaultContext): Promise<FaultRecord> {
  const { pipeline, stack, timings } = ctx;
  const injectedAtMs = ctx.now();
  const done = (target: string, detail: string): FaultRecord => ({ kind: fault.kind, target, injectedAtMs, healedAtMs: ctx.now(), detail });
  switch (fault.kind) {
    case 'kill-worker': {
      const name = pickOf(pipeline.workers, fault.pick);
      const pid = pipeline.pid(name);
      await pipeline.kill(name);
      await sleep(timings.processDownMs);
      await pipeline.restart(name);
      return done(name, `kill -9 pid ${pid}; restarted as pid ${pipeline.pid(name)} with its state dir`);
    }
    case 'zombie-worker': {
      const name = pickOf(pipeline.workers, fault.pick);
      pipeline.pause(name);
      await sleep(timings.zombieMs);
      pipeline.resume(name);
      return done(name, `SIGSTOP for ${timings.zombieMs} ms (past the session timeout), then SIGCONT`);
    }
    case 'scale-out-in': {
      const added = pipeline.addWorker();
      await sleep(timings.scaleHoldMs);
      const leaving = pickOf(pipeline.workers, fault.pick);
      await pipeline.stop(leaving);
      return done(`${added} in, ${leaving} out`, `${added} started; ${timings.scaleHoldMs} ms later ${leaving} stopped with SIGTERM`);
    }
    case 'kill-broker': {
      const node = pickOf(stack.kafkaNodes, fault.pick);
      await stack.kill(node);
      await sleep(timings.nodeDownMs);
      await stack.start(node);
      return done(node, `kill -9; restarted after ${timings.nodeDownMs} ms with its log dirs`);
    }
    case 'kafka-outage': {
      await Promise.all(stack.kafkaNodes.map((n) => stack.kill(n)));
      await sleep(timings.kafkaOutageMs);
      await Promise.all(stack.kafkaNodes.map((n) => stack.start(n)));
      return done(stack.kafkaNodes.join(','), `every broker kill -9; Kafka away for ${timings.kafkaOutageMs} ms, then restarted`);
    }
    case 'kill-redis-master': {
      const node = pickOf(stack.redisNodes, fault.pick);
      await stack.kill(node);
      await sleep(timings.nodeDownMs);
      await stack.start(node);
      return done(node, `kill -9 of a master; its slots away for ${timings.nodeDownMs} ms, restarted from its AOF`);
    }
    case 'redis-restart-lose-data': {
      const node = stack.redisNodes[0];
      await stack.kill(node);
      await sleep(timings.processDownMs);
      await stack.start(node, { wipe: true });
      return done(node, 'kill -9, then restarted with its data dir wiped: every count, fence and watermark lost');
    }
    case 'restart-dynamodb': {
      await stack.kill(stack.dynamodbNode);
      await sleep(timings.processDownMs);
      await stack.start(stack.dynamodbNode);
      return done(stack.dynamodbNode, 'kill -9, then restarted');
    }
    case 'kill-gateway':
    case 'kill-feed': {
      const name = fault.kind === 'kill-gateway' ? 'gateway' : 'feed';
      const pid = pipeline.pid(name);
      await pipeline.kill(name);
      await sleep(timings.processDownMs);
      await pipeline.restart(name);
      return done(name, `kill -9 pid ${pid}; restarted on its port as pid ${pipeline.pid(name)}`);
    }
  }
}
