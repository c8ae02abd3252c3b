/**
 * The transaction coordinator's state: one producer epoch per transactional id, and at most one
 * open transaction per id. A new epoch (InitProducerId, a forced fence, a timeout) makes every
 * producer holding an older one a zombie: its next call fails with FencedError('producer').
 */
import type { TopicPartitionOffset } from '../driver.js';
import type { PartitionLog, TxnState } from './fake-log.js';

export class FakeTransaction {
  readonly state: TxnState;
  readonly startedMs: number;
  readonly timeoutMs: number;
  /** The partitions this transaction wrote to: each gets a marker when it ends. */
  readonly partitions = new Set<PartitionLog>();
  /** Offsets sent with sendOffsets, per group: applied to the group only if the transaction commits. */
  readonly offsets = new Map<string, Map<string, TopicPartitionOffset>>();

  constructor(transactionalId: string, producerEpoch: number, startedMs: number, timeoutMs: number) {
    this.state = { transactionalId, producerEpoch, status: 'open' };
    this.startedMs = startedMs;
    this.timeoutMs = timeoutMs;
  }

  get transactionalId(): string {
    return this.state.transactionalId;
  }

  /** Whether this open transaction holds offsets of `groupId` for the partition (`topic:partition`): require_stable waits for it. */
  holdsOffset(groupId: string, key: string): boolean {
    return this.state.status === 'open' && (this.offsets.get(groupId)?.has(key) ?? false);
  }
}

export interface ProducerIdState {
  epoch: number;
  open: FakeTransaction | null;
}

export class TransactionCoordinator {
  readonly #ids = new Map<string, ProducerIdState>();

  /** The id's state, created at epoch -1 (never initialised). */
  state(transactionalId: string): ProducerIdState {
    let s = this.#ids.get(transactionalId);
    if (s === undefined) this.#ids.set(transactionalId, (s = { epoch: -1, open: null }));
    return s;
  }

  /** Every open transaction. */
  open(): FakeTransaction[] {
    return [...this.#ids.values()].flatMap((s) => (s.open === null ? [] : [s.open]));
  }

  /** Whether an open transaction holds offsets of the group for `key` (`topic:partition`). */
  unstable(groupId: string, key: string): boolean {
    return this.open().some((t) => t.holdsOffset(groupId, key));
  }
}
