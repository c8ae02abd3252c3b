/**
 * Injected faults. A real broker cannot be made to fail one chosen request, or to hold a call while
 * something else happens; these let a test do both, deterministically: `failNext` makes the next
 * matching call throw, `pauseNext` parks it at a gate the test opens when it has arranged the
 * interleaving it wants. Every faultable call of the fake clients goes through `enter` first,
 * before it touches any state, so a paused or failed call has had no effect.
 */

/** The calls that can be failed or paused. */
export type FaultOp =
  | 'createGroupConsumer'
  | 'poll'
  | 'committed'
  | 'commitSync'
  | 'createTransactionalProducer'
  | 'begin'
  | 'send'
  | 'sendOffsets'
  | 'commit'
  | 'abort'
  | 'produce'
  | 'createReader'
  | 'readerPoll'
  | 'admin';

/** Who makes a call: the fake driver's name, and the group id, transactional id or client id it is about. */
export interface FaultContext {
  readonly op: FaultOp;
  readonly driver: string;
  readonly target: string;
}

/** Narrows a fault to calls of one driver (one simulated process) and/or one target; absent fields match anything. */
export interface FaultScope {
  readonly driver?: string;
  readonly target?: string;
}

/** A call held at its start. `reached` resolves when a call arrives; it waits until `release()`. */
export interface Gate {
  readonly reached: Promise<FaultContext>;
  readonly released: boolean;
  release(): void;
}

interface PendingFailure {
  readonly op: FaultOp;
  readonly scope: FaultScope;
  readonly error: Error;
}

interface PendingPause {
  readonly op: FaultOp;
  readonly scope: FaultScope;
  arrive(ctx: FaultContext): Promise<void>;
}

function matches(op: FaultOp, scope: FaultScope, ctx: FaultContext): boolean {
  return op === ctx.op && (scope.driver === undefined || scope.driver === ctx.driver) && (scope.target === undefined || scope.target === ctx.target);
}

export class Faults {
  #failures: PendingFailure[] = [];
  #pauses: PendingPause[] = [];
  #calls = new Map<FaultOp, number>();

  /** The next call of `op` in `scope` throws `error` (once; queue several for several calls). */
  failNext(op: FaultOp, error: Error, scope: FaultScope = {}): void {
    this.#failures.push({ op, scope, error });
  }

  /** The next call of `op` in `scope` waits at the returned gate (once). A failure queued for it is raised after release. */
  pauseNext(op: FaultOp, scope: FaultScope = {}): Gate {
    let reached!: (ctx: FaultContext) => void;
    let release!: () => void;
    const reachedP = new Promise<FaultContext>((resolve) => (reached = resolve));
    const releasedP = new Promise<void>((resolve) => (release = resolve));
    let released = false;
    this.#pauses.push({
      op,
      scope,
      arrive: (ctx) => {
        reached(ctx);
        return releasedP;
      },
    });
    return {
      reached: reachedP,
      get released() {
        return released;
      },
      release: () => {
        released = true;
        release();
      },
    };
  }

  /** How many calls of `op` were made (paused and failed ones included): to assert that a recovery did or did not redo something. */
  count(op: FaultOp): number {
    return this.#calls.get(op) ?? 0;
  }

  /** Drops every pending failure and pause (pauses already reached stay parked until released). */
  clear(): void {
    this.#failures = [];
    this.#pauses = [];
  }

  /** Called first by every faultable call: waits at a matching gate, then throws a matching failure. */
  async enter(ctx: FaultContext): Promise<void> {
    this.#calls.set(ctx.op, (this.#calls.get(ctx.op) ?? 0) + 1);
    const p = this.#pauses.findIndex((x) => matches(x.op, x.scope, ctx));
    if (p >= 0) {
      const [pause] = this.#pauses.splice(p, 1);
      await pause.arrive(ctx);
    }
    const f = this.#failures.findIndex((x) => matches(x.op, x.scope, ctx));
    if (f >= 0) {
      const [failure] = this.#failures.splice(f, 1);
      throw failure.error;
    }
  }
}
