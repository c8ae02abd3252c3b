import type { Sink } from '../topology/sink.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { Cancellable, Punctuator, PunctuationType } from '../topology/processor.js';
import type { RecordMetadata } from '../topology/record.js';
import { TopologyError } from '../topology/topology-error.js';
import type { SubTopologySpec } from '../topology/topology-spec.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, VotestreamError } from './errors.js';
import { ExternalSinkNode } from './external-sink-node.js';
import type { ChildNode } from './forwarding.js';
import { createLogger, type Logger } from './logger.js';
import { ProcessorNode } from './processor-node.js';
import { PunctuationQueue } from './punctuation-queue.js';
import type { RawRecord } from './raw-record.js';
import type { RecordCollector } from './record-collector.js';
import { SourceNode } from './source-node.js';
import type { TaskHost } from './task-host.js';
import { TopicSinkNode } from './topic-sink-node.js';

export interface StreamTaskOptions {
  readonly applicationId: string;
  readonly subTopology: SubTopologySpec;
  readonly partition: number;
  /**
   * Opened stores by name: each of `subTopology.stores` (wrapped as the runtime needs: write buffer,
   * changelogging, metering) and each of `subTopology.globalStores`. The task never opens or closes them.
   */
  readonly stores: ReadonlyMap<string, KeyValueStore<unknown>>;
  readonly collector: RecordCollector;
  /** Opened sinks by sink node name, one for each `external-sink` node. The task never closes them. */
  readonly sinks?: ReadonlyMap<string, Sink<unknown, unknown>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Records an external sink node buffers before writing ahead of the commit; default 1000. */
  readonly sinkBatchSize?: number;
  /** Called for each record a node skipped (ProcessorContext.recordDropped), after it is logged. */
  readonly onDroppedRecord?: () => void;
}

let quietLogger: Logger | undefined;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One sub-topology instantiated for one partition, as in Kafka Streams: the code the real runtime
 * and the TopologyTestDriver both run. Not re-entrant: call init, then process / punctuate / commit
 * one at a time (await each), then close.
 */
export class StreamTask {
  readonly id: string;
  readonly partition: number;
  readonly subTopologyId: number;
  /** Resolved names of the topics this task consumes (repartition topics carry the application id). */
  readonly sourceTopics: readonly string[];

  readonly #sources = new Map<string, SourceNode>();
  readonly #processors: ProcessorNode[] = [];
  readonly #externalSinks: ExternalSinkNode[] = [];
  readonly #streamTimePunctuations = new PunctuationQueue();
  readonly #wallClockPunctuations = new PunctuationQueue();
  readonly #clock: Clock;
  #metadata: RecordMetadata | undefined;
  #streamTimeMs = -1;
  #droppedRecords = 0;
  #state: 'created' | 'running' | 'closed' = 'created';

  constructor(options: StreamTaskOptions) {
    const { applicationId, subTopology, partition, stores, collector } = options;
    if (!Number.isInteger(partition) || partition < 0) throw new ConfigError(`Invalid partition ${partition}`);
    this.id = `${subTopology.id}_${partition}`;
    this.partition = partition;
    this.subTopologyId = subTopology.id;
    this.#clock = options.clock ?? systemClock;
    const logger = (options.logger ?? (quietLogger ??= createLogger({ level: 'silent' }))).child({ task: this.id });
    const batchSize = options.sinkBatchSize ?? 1000;

    for (const store of [...subTopology.stores.map((s) => s.name), ...subTopology.globalStores]) {
      if (!stores.has(store)) throw new TopologyError(`Task ${this.id} needs store "${store}", which was not given`);
    }
    const host = this.#host(applicationId, stores, logger, options.onDroppedRecord);

    const children = new Map<string, ChildNode>();
    const wiring: { node: SourceNode | ProcessorNode; children: readonly string[] }[] = [];
    for (const spec of subTopology.nodes) {
      switch (spec.kind) {
        case 'source': {
          const node = new SourceNode(spec, applicationId, collector, logger, this.id);
          for (const topic of node.topics()) this.#sources.set(topic, node);
          wiring.push({ node, children: spec.children });
          break;
        }
        case 'processor': {
          const node = new ProcessorNode(spec.name, spec.supplier(), spec.stores, host);
          this.#processors.push(node);
          children.set(spec.name, node);
          wiring.push({ node, children: spec.children });
          break;
        }
        case 'topic-sink':
          children.set(spec.name, new TopicSinkNode(spec, applicationId, collector, () => this.#metadata));
          break;
        case 'external-sink': {
          const sink = options.sinks?.get(spec.name);
          if (sink === undefined) {
            throw new TopologyError(`Task ${this.id} needs an opened sink for node "${spec.name}" (${spec.sink.name})`);
          }
          const node = new ExternalSinkNode(spec.name, sink, batchSize, partition, () => this.#metadata);
          this.#externalSinks.push(node);
          children.set(spec.name, node);
          break;
        }
      }
    }
    for (const { node, children: names } of wiring) node.connect(names.map((name) => children.get(name)!));
    this.sourceTopics = [...this.#sources.keys()];
  }

  #host(
    applicationId: string,
    stores: ReadonlyMap<string, KeyValueStore<unknown>>,
    logger: Logger,
    onDropped: (() => void) | undefined,
  ): TaskHost {
    return {
      applicationId,
      taskId: this.id,
      partition: this.partition,
      metadata: () => this.#metadata,
      streamTimeMs: () => this.#streamTimeMs,
      nowMs: () => this.#clock.nowMs(),
      store: (name) => stores.get(name)!,
      schedule: (node, intervalMs, type, punctuator) => this.#schedule(node, intervalMs, type, punctuator),
      dropped: (node, reason) => {
        this.#droppedRecords++;
        logger.warn({ node, reason, ...this.#metadata }, 'skipped a record');
        onDropped?.();
      },
    };
  }

  #schedule(node: ProcessorNode, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new ConfigError(`Punctuation interval must be a positive integer of ms, got ${intervalMs}`);
    }
    // Kafka Streams: stream time is aligned to 0 (fires on the first record), wall clock to now.
    if (type === 'stream-time') return this.#streamTimePunctuations.add(node, 0, intervalMs, punctuator);
    if (type === 'wall-clock') {
      return this.#wallClockPunctuations.add(node, this.#clock.nowMs() + intervalMs, intervalMs, punctuator);
    }
    throw new ConfigError(`Unknown punctuation type "${String(type)}": use stream-time or wall-clock`);
  }

  get streamTimeMs(): number {
    return this.#streamTimeMs;
  }

  /** Records its nodes skipped (a null key or value in an aggregation or join), as Kafka Streams' `dropped-records-total`. */
  get droppedRecordsTotal(): number {
    return this.#droppedRecords;
  }

  /** Calls every processor's `init` (where they open stores and schedule punctuations). */
  async init(): Promise<void> {
    this.#expect('created', 'init');
    for (const node of this.#processors) await node.init();
    this.#state = 'running';
  }

  /**
   * Deserializes and runs one consumed record through the sub-topology. The Promise settles when
   * every node it reached is done (sends handed to the collector, store writes issued), so the
   * caller can process records strictly in offset order. Advances stream time, but does not
   * punctuate: call `punctuate('stream-time')` after a record or a batch.
   */
  process(record: RawRecord): Promise<void> {
    try {
      this.#expect('running', 'process');
      const source = this.#sources.get(record.topic);
      if (source === undefined) throw new TopologyError(`Task ${this.id} does not read topic "${record.topic}"`);
      if (record.timestamp > this.#streamTimeMs) this.#streamTimeMs = record.timestamp;
      this.#metadata = { topic: record.topic, partition: record.partition, offset: record.offset };
      return source.process(record) ?? RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Fires the punctuations due now: at the task's stream time, or at the clock's wall-clock time.
   * Resolves to how many fired.
   */
  async punctuate(type: PunctuationType): Promise<number> {
    this.#expect('running', 'punctuate');
    this.#metadata = undefined;
    return type === 'stream-time'
      ? this.#streamTimeMs < 0
        ? 0
        : this.#streamTimePunctuations.punctuate(this.#streamTimeMs)
      : this.#wallClockPunctuations.punctuate(this.#clock.nowMs());
  }

  /**
   * Part of the runtime's commit: hands each external sink its buffered records (`write`), then
   * calls its `flush`. Call it before committing the consumed offsets.
   */
  async commit(): Promise<void> {
    this.#expect('running', 'commit');
    for (const sink of this.#externalSinks) await sink.commit();
  }

  /** Closes the processors and cancels punctuations; stores and sinks belong to the caller. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'closed';
    this.#streamTimePunctuations.clear();
    this.#wallClockPunctuations.clear();
    if (wasRunning) for (const node of this.#processors) await node.close();
  }

  #expect(state: 'created' | 'running', operation: string): void {
    if (this.#state !== state) {
      throw new VotestreamError('TASK_STATE', `Task ${this.id} cannot ${operation} while ${this.#state}`);
    }
  }
}
