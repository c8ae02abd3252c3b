/**
 * The elections table of the flow peer: every version of every election, folded with our own
 * `mergeElectionVersion`, kept outside of flow. Flow's `globalTable` cannot stand in for it: it is
 * read by the application's consumer group like any source (so with two instances only one would
 * see the single `elections` partition), it keeps only the latest value per key (judging needs the
 * version in force at the vote's `ts`), and its records interleave with votes in fetch order, with
 * no way to hold a vote until the table is complete up to its `ts`.
 *
 * So this reader (our driver, assign mode, read_committed, no group) reads `elections` to its end
 * before flow starts, then follows it. `completeUpTo` is a wall-clock instant before which every
 * record of `elections` is known to be applied: the judging rule's "complete up to T" test.
 */
import type { KafkaDriver, Reader } from '../../../runtime/kafka/driver.js';
import type { Logger } from '../../../runtime/logger.js';
import { decodeElection, mergeElectionVersion, type ElectionHistory } from '../../../voting/election.js';

export class ElectionsFollower {
  readonly #reader: Reader;
  readonly #topic: string;
  readonly #logger: Logger;
  readonly #histories = new Map<string, ElectionHistory>();
  #completeUpTo = 0;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();

  private constructor(reader: Reader, topic: string, logger: Logger) {
    this.#reader = reader;
    this.#topic = topic;
    this.#logger = logger;
  }

  /** Reads `topic` to its end, then keeps following it in the background until `close()`. */
  static async start(driver: KafkaDriver, topic: string, logger: Logger): Promise<ElectionsFollower> {
    const reader = await driver.createReader({ partitions: [{ topic, partition: 0, from: 'earliest' }], isolation: 'read_committed', clientId: 'kafkats-flow-peer-elections' });
    const follower = new ElectionsFollower(reader, topic, logger);
    await follower.#catchUp();
    follower.#loop = follower.#follow();
    return follower;
  }

  get completeUpTo(): number {
    return this.#completeUpTo;
  }

  get elections(): number {
    return this.#histories.size;
  }

  historyOf(electionId: string): ElectionHistory | undefined {
    return this.#histories.get(electionId);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#reader.close();
  }

  /** One pass to the end offsets observed after `observedAt`, so the table is complete up to it. */
  async #catchUp(): Promise<void> {
    const observedAt = Date.now();
    await this.#reader.readToEnd((records) => {
      for (const r of records) this.#apply(r.key, r.value, r.offset);
    });
    this.#completeUpTo = observedAt;
  }

  async #follow(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#catchUp();
        // readToEnd returns at once when there is nothing new: pace the end-offset queries.
        await new Promise((r) => setTimeout(r, 200));
      } catch (err) {
        // An outage must not stop the peer: the table stays as it is, completeUpTo stops moving.
        this.#logger.warn({ err: (err as Error).message, topic: this.#topic }, 'following elections failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** As our worker's global table: what does not decode or fit the history is skipped and logged. */
  #apply(key: Buffer | null, value: Buffer | null, offset: bigint): void {
    if (key === null) {
      // Our table's key serde refuses a null key, so our worker skips such a record too.
      this.#logger.warn({ topic: this.#topic, offset: String(offset) }, 'skipped an elections record without a key');
      return;
    }
    const decoded = decodeElection(value);
    if (!decoded.ok) {
      this.#logger.warn({ topic: this.#topic, offset: String(offset), err: decoded.error }, 'skipped an elections record that cannot be decoded');
      return;
    }
    const id = decoded.election.electionId;
    try {
      this.#histories.set(id, mergeElectionVersion(this.#histories.get(id), decoded.election, key.toString('utf8')));
    } catch (err) {
      this.#logger.warn({ topic: this.#topic, offset: String(offset), err: (err as Error).message }, 'skipped an elections record that does not fit its history');
    }
  }
}
