import type { ConsumedRecord, KafkaDriver, Reader } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { decodeElection, ElectionVersionError, mergeElectionVersion, versionAt, type Election, type ElectionHistory } from '../election.js';
import { topicNames } from '../topics.js';

export interface ElectionViewOptions {
  readonly driver: KafkaDriver;
  readonly logger: Logger;
  readonly prefix?: string;
  readonly nowMs?: () => number;
}

/**
 * Every election's versions as `elections` holds them, followed for as long as the process runs
 * (what the workers' elections table holds, folded by the same rule). The gateway checks a vote
 * against the version in force now; the workers judge it again, authoritatively, by its `ts`.
 */
export class ElectionView {
  readonly #o: ElectionViewOptions;
  readonly #histories = new Map<string, ElectionHistory>();
  readonly #stop = new AbortController();
  #reader: Reader | undefined;
  #loop: Promise<void> | undefined;
  #loaded = false;
  #lastError: string | undefined;

  constructor(options: ElectionViewOptions) {
    this.#o = options;
  }

  /** Reads `elections` to its end, then follows it in the background. */
  async start(): Promise<void> {
    const topic = topicNames(this.#o.prefix).elections;
    this.#reader = await this.#o.driver.createReader({ partitions: [{ topic, partition: 0, from: 'earliest' }], isolation: 'read_committed', clientId: 'votestream-gateway-elections' });
    await this.#reader.readToEnd((batch) => this.#apply(batch));
    this.#loaded = true;
    this.#loop = this.#follow();
  }

  /** Loaded, and the last read of `elections` worked. */
  get ready(): boolean {
    return this.#loaded && this.#lastError === undefined;
  }

  get problem(): string | undefined {
    return this.#loaded ? this.#lastError : 'elections not loaded yet';
  }

  /** The version of `electionId` in force now, if any. */
  current(electionId: string): Election | undefined {
    return versionAt(this.#histories.get(electionId), (this.#o.nowMs ?? Date.now)());
  }

  ids(): string[] {
    return [...this.#histories.keys()].sort();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#reader?.close();
  }

  async #follow(): Promise<void> {
    let backoffMs = 100;
    while (!this.#stop.signal.aborted) {
      try {
        this.#apply(await this.#reader!.poll({ maxWaitMs: 500 }));
        this.#lastError = undefined;
        backoffMs = 100;
      } catch (error) {
        this.#lastError = `cannot read elections: ${error instanceof Error ? error.message : String(error)}`;
        this.#o.logger.warn({ err: error }, 'reading elections failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  #apply(records: readonly ConsumedRecord[]): void {
    for (const r of records) {
      // A tombstone never erases an election's history (as in the workers).
      if (r.value === null) continue;
      const decoded = decodeElection(r.value);
      if (!decoded.ok) {
        this.#o.logger.warn({ offset: String(r.offset), error: decoded.error }, 'skipping an elections record that is not an election version');
        continue;
      }
      const key = r.key?.toString('utf8');
      try {
        this.#histories.set(decoded.election.electionId, mergeElectionVersion(this.#histories.get(decoded.election.electionId), decoded.election, key));
      } catch (error) {
        if (!(error instanceof ElectionVersionError)) throw error;
        this.#o.logger.warn({ offset: String(r.offset), error: error.message }, 'skipping an election version that cannot join its history');
      }
    }
  }
}
