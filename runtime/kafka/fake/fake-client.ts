/** What every fake client shares: the cluster it talks to, the simulated process it belongs to, and its id. */
import { KafkaDriverError } from '../errors.js';
import type { FakeCluster } from './fake-cluster.js';
import type { FaultOp } from './fake-faults.js';

/** Which cluster a fake client talks to, and which fake driver (simulated process) made it: faults can be scoped to one. */
export interface FakeClientContext {
  readonly cluster: FakeCluster;
  readonly driver: string;
  /** False plays a client without KIP-447 (FakeKafkaDriverOptions). Default true. */
  readonly fencesOffsetsByGeneration?: boolean;
}

export abstract class FakeClient {
  readonly clientId: string;
  readonly cluster: FakeCluster;
  protected readonly driver: string;
  /** Whether this client plays one with KIP-447 (generation-fenced offsets, require_stable offset fetches). */
  protected readonly kip447: boolean;
  #closed = false;

  constructor(ctx: FakeClientContext, clientId: string) {
    this.cluster = ctx.cluster;
    this.driver = ctx.driver;
    this.kip447 = ctx.fencesOffsetsByGeneration !== false;
    this.clientId = clientId;
  }

  /** Refuses calls after close(), then lets the cluster apply faults to this call (scoped by this client's driver and `target`). */
  protected async enter(op: FaultOp, target: string = this.clientId): Promise<void> {
    if (this.#closed) throw new KafkaDriverError(`${this.clientId} is closed`);
    await this.cluster.enter(op, this.driver, target);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
