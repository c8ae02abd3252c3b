import { InfrastructureError } from '../../runtime/errors.js';
import type { Producer, ProducerRecord } from '../../runtime/kafka/driver.js';

export interface VoteProducerOptions {
  readonly producer: Producer;
  /** How long a record may wait for others to share its produce request. Default 2 ms. */
  readonly lingerMs?: number;
  /** Records per produce request at most. Default 500 (votes are < 1 KiB: well under max.message.bytes). */
  readonly maxBatch?: number;
  /** Records accepted but not yet acknowledged, at most; beyond it `send` refuses at once. Default 10,000. */
  readonly maxInFlight?: number;
  /** An acknowledgement later than this is reported as a failure (the record may still land). Default 10 s. */
  readonly ackTimeoutMs?: number;
}

/** Why a record got no acknowledgement: the gateway answers 503 either way, never 202. */
export class ProduceRefusedError extends InfrastructureError {
  constructor(
    readonly reason: 'overloaded' | 'unavailable' | 'closed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Pending {
  readonly record: ProducerRecord;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Batches votes into produce requests (a short linger, or a full batch) on one idempotent acks=all
 * producer, and resolves each vote only when Kafka acknowledged the request that carried it. The
 * number of votes in flight is bounded: over it a vote is refused at once, so memory stays bounded
 * whatever the load and however slow Kafka is.
 */
export class VoteProducer {
  readonly #o: Required<Omit<VoteProducerOptions, 'producer'>> & { producer: Producer };
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #closed = false;
  #lastSendOk = true;
  readonly #sends = new Set<Promise<void>>();

  constructor(options: VoteProducerOptions) {
    this.#o = { lingerMs: 2, maxBatch: 500, maxInFlight: 10_000, ackTimeoutMs: 10_000, ...options };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** False after a produce request failed, until one succeeds. */
  get healthy(): boolean {
    return this.#lastSendOk;
  }

  send(record: ProducerRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new ProduceRefusedError('closed', 'the gateway is shutting down'));
    if (this.#inFlight >= this.#o.maxInFlight) {
      return Promise.reject(new ProduceRefusedError('overloaded', `${this.#inFlight} votes are waiting for Kafka`));
    }
    this.#inFlight++;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        // No answer in time is as telling as a refusal: not ready until a send succeeds again.
        this.#lastSendOk = false;
        finish(new ProduceRefusedError('unavailable', `Kafka did not acknowledge within ${this.#o.ackTimeoutMs} ms`));
      }, this.#o.ackTimeoutMs);
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#queue.push({
        record,
        resolve: () => {
          this.#inFlight--;
          finish();
        },
        reject: (error) => {
          this.#inFlight--;
          finish(error);
        },
      });
      if (this.#queue.length >= this.#o.maxBatch) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#o.lingerMs);
    });
  }

  /**
   * Stops taking votes, sends what is queued and waits for the acknowledgements, at most
   * ackTimeoutMs: every waiting request has been answered by then (503), so nothing is left to wait for.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#o.ackTimeoutMs)));
    await Promise.race([Promise.allSettled([...this.#sends]), bound]);
    clearTimeout(timer);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    const send = this.#o.producer.send(batch.map((p) => p.record)).then(
      () => {
        this.#lastSendOk = true;
        for (const p of batch) p.resolve();
      },
      (error: unknown) => {
        this.#lastSendOk = false;
        const refused = new ProduceRefusedError('unavailable', `Kafka refused the votes: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        for (const p of batch) p.reject(refused);
      },
    );
    this.#sends.add(send);
    void send.finally(() => this.#sends.delete(send));
  }
}
