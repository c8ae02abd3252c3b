import type { Logger } from '../../runtime/logger.js';
import { createRedisClient, type RedisClient } from '../../sinks/redis-client.js';
import { updatesChannel } from '../redis-keys.js';

export interface UpdatesSubscriberOptions {
  readonly url: string;
  readonly prefix: string;
  readonly logger: Logger;
}

type UpdateHandler = (electionId: string, receivedAt: number) => void;

/**
 * The feed's one subscriber connection (pub/sub mode takes a connection for itself): a channel per
 * election in demand, `vs:{E}:updates`. ioredis reconnects and resubscribes by itself; updates
 * published while it was away are lost, hence `onResubscribed`, after which the feed rereads.
 *
 * On a Redis Cluster the same classic SUBSCRIBE works: the count script's PUBLISH is broadcast to
 * every node, so one subscriber connection, on whichever node ioredis picks, hears every election.
 * Sharded pub/sub (SSUBSCRIBE, Redis 7) would need one connection per shard and a different
 * publish in the script; at a handful of masters the broadcast costs less than that.
 */
export class UpdatesSubscriber {
  readonly #o: UpdatesSubscriberOptions;
  readonly #redis: RedisClient;
  /** channel -> electionId, for every election subscribed (or being subscribed). */
  readonly #channels = new Map<string, string>();
  #connectedOnce = false;
  #lostSinceReady = false;
  #lastErrorLogAt = 0;
  #onUpdate: UpdateHandler = () => undefined;
  #onResubscribed: () => void = () => undefined;

  constructor(options: UpdatesSubscriberOptions) {
    this.#o = options;
    // No retry limit per command: a SUBSCRIBE sent while Redis is away waits for it to come back.
    this.#redis = createRedisClient(options.url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(100 * times, 2_000) });
    this.#redis.on('message', (channel: string) => {
      const electionId = this.#channels.get(channel);
      if (electionId !== undefined) this.#onUpdate(electionId, performance.now());
    });
    this.#redis.on('error', (error: Error) => {
      // One line per few seconds: a Redis that is down would otherwise log at every retry.
      if (Date.now() - this.#lastErrorLogAt < 5_000) return;
      this.#lastErrorLogAt = Date.now();
      options.logger.warn({ err: error.message }, 'redis subscriber connection failed; reconnecting');
    });
    this.#redis.on('close', () => (this.#lostSinceReady = this.#connectedOnce));
    this.#redis.on('ready', () => {
      if (!this.#connectedOnce) {
        this.#connectedOnce = true;
        return;
      }
      if (!this.#lostSinceReady) return;
      this.#lostSinceReady = false;
      void this.#resubscribed();
    });
  }

  /** An update message for `electionId` reached the feed at `receivedAt` (performance.now()). */
  onUpdate(handler: UpdateHandler): void {
    this.#onUpdate = handler;
  }

  /** The connection came back after a loss and every channel is subscribed again. */
  onResubscribed(handler: () => void): void {
    this.#onResubscribed = handler;
  }

  async start(): Promise<void> {
    await this.#redis.connect();
  }

  /** Connected, in subscriber mode or ready to enter it. */
  get ready(): boolean {
    return this.#redis.status === 'ready';
  }

  async add(electionId: string): Promise<void> {
    const channel = updatesChannel(electionId, this.#o.prefix);
    this.#channels.set(channel, electionId);
    await this.#redis.subscribe(channel);
  }

  async remove(electionId: string): Promise<void> {
    const channel = updatesChannel(electionId, this.#o.prefix);
    this.#channels.delete(channel);
    await this.#redis.unsubscribe(channel);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }

  async #resubscribed(): Promise<void> {
    try {
      // ioredis has sent its own SUBSCRIBEs already; awaiting ours (idempotent) makes sure they are
      // in force before the feed rereads, so no update falls between the reread and the subscription.
      if (this.#channels.size > 0) await this.#redis.subscribe(...this.#channels.keys());
      this.#o.logger.info({ channels: this.#channels.size }, 'redis subscriber back; sending fresh snapshots');
      this.#onResubscribed();
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'resubscribing after a redis reconnect failed; ioredis retries');
    }
  }
}
