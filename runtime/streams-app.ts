import type { Registry } from 'prom-client';
import type { Topology } from '../topology/topology.js';
import { resolveTopic } from '../topology/topology-spec.js';
import { ConfigError, VotestreamError } from './errors.js';
import { GlobalStoreThread } from './global-store-thread.js';
import type { KafkaDriver, TopicRequirement } from './kafka/driver.js';
import { createKafkaDriver } from './kafka/create-driver.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry, startMetricsServer, type MetricsServer, type Readiness } from './metrics.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { parseStreamsConfig, type StreamsConfig, type StreamsConfigInput } from './streams-config.js';
import { StreamThread } from './stream-thread.js';

export interface StreamsAppOptions {
  readonly driver?: KafkaDriver;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

export type StreamsAppState = 'created' | 'starting' | 'running' | 'closing' | 'closed' | 'failed';

export class CoPartitioningError extends VotestreamError {
  constructor(message: string) {
    super('COPARTITIONING', message);
  }
}

/**
 * Runs a Topology against Kafka: `new StreamsApp(topology, config).start()`, then `close()`.
 * One StreamThread per sub-topology (its own consumer group and commit loop), global stores
 * loaded before any of them processes.
 */
export class StreamsApp {
  readonly config: StreamsConfig;
  readonly registry: Registry;
  readonly #topology: Topology;
  readonly #driver: KafkaDriver;
  readonly #log: Logger;
  readonly #metrics: RuntimeMetrics;
  #threads: StreamThread[] = [];
  #global: GlobalStoreThread | undefined;
  #metricsServer: MetricsServer | undefined;
  #state: StreamsAppState = 'created';
  #failure: Promise<never> | undefined;
  #onFailure: ((err: unknown) => void) | undefined;

  constructor(topology: Topology, config: StreamsConfigInput, options: StreamsAppOptions = {}) {
    this.config = parseStreamsConfig(config);
    this.#topology = topology;
    this.#driver = options.driver ?? createKafkaDriver(this.config.driver, { brokers: this.config.brokers, clientId: this.config.applicationId });
    this.#log = (options.logger ?? createLogger({ name: 'votestream-streams' })).child({ app: this.config.applicationId });
    this.registry = options.registry ?? createMetricsRegistry({ app: this.config.applicationId });
    this.#metrics = new RuntimeMetrics(this.registry);
  }

  get state(): StreamsAppState {
    return this.#state;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsServer?.url;
  }

  /**
   * Ready when running and every thread is connected, not recovering from a failure and not stuck
   * in a commit (a sink waiting out its service's outage). Served on `/readyz`.
   */
  readiness(): Readiness {
    if (this.#state !== 'running') return { ready: false, reasons: [`app is ${this.#state}`] };
    const reasons = this.#threads.flatMap((t) => {
      const r = t.readiness();
      return r.ready ? [] : [`${t.name}: ${r.reason ?? 'not ready'}`];
    });
    return reasons.length === 0 ? { ready: true } : { ready: false, reasons };
  }

  /** Partitions currently owned, per sub-topology. */
  assignment(): Record<number, number[]> {
    return Object.fromEntries(this.#threads.map((t, i) => [this.#topology.subTopologies[i].id, t.assignedPartitions]));
  }

  /**
   * Checks and creates topics, loads the global stores, starts the threads. Resolves when all
   * threads are running (their first assignment may still be on its way). A thread that fails
   * for good makes the promise from `failed()` reject and closes the app.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new VotestreamError('APP_STATE', `cannot start a StreamsApp that is ${this.#state}`);
    this.#state = 'starting';
    try {
      const partitionCounts = await this.#prepareTopics();
      if (this.config.metricsPort !== undefined) {
        this.#metricsServer = await startMetricsServer(this.registry, this.config.metricsPort, '0.0.0.0', () => this.readiness());
        this.#log.info({ url: this.#metricsServer.url }, 'metrics served');
      }
      this.#global = new GlobalStoreThread(this.#topology.globalStores, this.#driver, this.#log, { registry: this.registry });
      await this.#global.start(partitionCounts);
      this.#failure = new Promise<never>((_, reject) => (this.#onFailure = reject));
      this.#failure.catch(() => undefined);
      for (const sub of this.#topology.subTopologies) {
        const thread = new StreamThread({
          config: this.config,
          sub,
          driver: this.#driver,
          logger: this.#log,
          registry: this.registry,
          metrics: this.#metrics,
          globalStores: this.#global.stores,
        });
        this.#threads.push(thread);
        thread.start().catch((err: unknown) => this.#fail(thread, err));
      }
      this.#state = 'running';
      this.#log.info({ subtopologies: this.#threads.map((t) => ({ group: t.groupId, topics: t.sourceTopics, mode: t.mode })) }, 'streams app running');
    } catch (err) {
      this.#state = 'failed';
      await this.#shutdown();
      throw err;
    }
  }

  /** Rejects when a thread fails for good (never resolves). */
  failed(): Promise<never> {
    if (this.#failure === undefined) throw new VotestreamError('APP_STATE', 'not started');
    return this.#failure;
  }

  #fail(thread: StreamThread, err: unknown): void {
    this.#log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), thread: thread.name }, 'stream thread failed');
    if (this.#state === 'running') {
      this.#state = 'failed';
      void this.#shutdown().finally(() => this.#onFailure?.(err));
    }
  }

  /** Finishes the current batches, commits, closes tasks and stores, leaves the groups. */
  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closing';
    await this.#shutdown();
    this.#state = 'closed';
  }

  async #shutdown(): Promise<void> {
    // A task may be waiting for a global table to be complete up to a record's time, which an
    // outage can make endless: after a short grace such waits fail (an InfrastructureError, so
    // the batch is replayed on the next start, never dead-lettered) and the threads can stop.
    const interrupt = setTimeout(() => this.#global?.interruptWaits(), 3_000);
    try {
      await Promise.all(this.#threads.map((t) => t.stop()));
    } finally {
      clearTimeout(interrupt);
    }
    await this.#global?.stop();
    await this.#metricsServer?.close();
    this.#metricsServer = undefined;
    this.#log.info('streams app closed');
  }

  /**
   * Source topics must exist and be co-partitioned within a sub-topology; internal topics
   * (changelogs, repartitions) and dead-letter topics are created when missing.
   */
  async #prepareTopics(): Promise<Map<string, number>> {
    const appId = this.config.applicationId;
    const topics = this.#topology.topics(appId);
    const admin = this.#driver.createAdmin({ clientId: `${appId}-admin` });
    try {
      const external = [...new Set([...topics.sourceTopics, ...topics.globalTopics])];
      const counts = await admin.partitionCounts(external).catch((err: unknown) => {
        throw new ConfigError(`source topics of the topology are missing (run \`votestream init\`?): ${(err as Error).message}`);
      });
      let maxPartitions = 1;
      for (const t of topics.sourceTopics) maxPartitions = Math.max(maxPartitions, counts.get(t) ?? 1);
      const explicit = this.#topology.repartitionPartitions(appId);
      // A sub-topology's tasks are its partitions: every topic it reads (external, or a repartition
      // topic given a partition count) must have as many. Other repartition topics and its
      // changelogs follow it; a sub-topology reading neither kind follows the largest source topic.
      const partitionsOf = new Map<number, number>();
      for (const sub of this.#topology.subTopologies) {
        const sizes = sub.sourceTopics.flatMap((t) => {
          const internal = sub.internalTopics.includes(t);
          const name = resolveTopic(appId, t, internal);
          const n = internal ? explicit.get(name) : counts.get(t);
          return n === undefined ? [] : [[name, n] as const];
        });
        const distinct = new Set(sizes.map(([, n]) => n));
        if (distinct.size > 1) {
          throw new CoPartitioningError(
            `sub-topology ${sub.id} reads topics that are not co-partitioned: ${sizes.map(([t, n]) => `${t} (${n})`).join(', ')}; give them the same partition count`,
          );
        }
        partitionsOf.set(sub.id, sizes[0]?.[1] ?? maxPartitions);
      }
      const readerPartitions = (topic: string): number => {
        const sub = this.#topology.subTopologies.find((s) => s.internalTopics.some((t) => s.sourceTopics.includes(t) && resolveTopic(appId, t, true) === topic));
        return explicit.get(topic) ?? (sub === undefined ? maxPartitions : partitionsOf.get(sub.id)!);
      };
      // No replication factor: the cluster's rule (runtime/kafka/replication.ts), as for the application's topics.
      const required: TopicRequirement[] = [
        ...topics.changelogTopics.map(({ topic, store }) => {
          const sub = this.#topology.subTopologies.find((s) => s.stores.some((st) => st.name === store))!;
          return { name: topic, partitions: partitionsOf.get(sub.id)!, configs: { 'cleanup.policy': 'compact' } };
        }),
        ...topics.repartitionTopics.map((name) => ({ name, partitions: readerPartitions(name), configs: {} })),
        ...topics.deadLetterTopics.map((name) => ({ name, partitions: maxPartitions, configs: {} })),
      ];
      const result = await admin.ensureTopics(required);
      if (result.created.length > 0) this.#log.info({ created: result.created }, 'internal topics created');
      return await admin.partitionCounts([...external, ...required.map((r) => r.name)]);
    } finally {
      await admin.close();
    }
  }
}
