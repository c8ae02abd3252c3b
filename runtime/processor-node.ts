import type { KeyValueStore } from '../statestores/key-value-store.js';
import type {
  Cancellable,
  Processor,
  ProcessorContext,
  Punctuator,
  PunctuationType,
} from '../topology/processor.js';
import type { RecordMetadata, StreamRecord } from '../topology/record.js';
import { TopologyError } from '../topology/topology-error.js';
import { dispatch, type ChildNode } from './forwarding.js';
import type { TaskHost } from './task-host.js';

type AnyRecord = StreamRecord<unknown, unknown>;

/**
 * Runs one Processor inside a task and is its context. Forwards are chained: a forward issued while
 * an earlier one is still running (an async child) waits for it, so records reach children in the
 * order they were forwarded whether or not the processor awaits `forward`. `process` returns only
 * when the processor and every forward it issued are done; when all of that is synchronous it
 * returns undefined and allocates nothing.
 */
export class ProcessorNode implements ChildNode, ProcessorContext<unknown, unknown> {
  readonly name: string;
  readonly #processor: Processor<unknown, unknown, unknown, unknown>;
  readonly #stores: ReadonlySet<string>;
  readonly #host: TaskHost;
  #children: readonly ChildNode[] = [];
  #childByName: ReadonlyMap<string, ChildNode> = new Map();
  #pending: Promise<void> | undefined;

  constructor(name: string, processor: Processor<unknown, unknown, unknown, unknown>, stores: readonly string[], host: TaskHost) {
    this.name = name;
    this.#processor = processor;
    this.#stores = new Set(stores);
    this.#host = host;
  }

  connect(children: readonly ChildNode[]): void {
    this.#children = children;
    this.#childByName = new Map(children.map((c) => [c.name, c]));
  }

  init(): void | Promise<void> {
    return this.#processor.init?.(this);
  }

  close(): void | Promise<void> {
    return this.#processor.close?.();
  }

  process(record: AnyRecord): void | Promise<void> {
    this.#pending = undefined;
    const result = this.#processor.process(record);
    if (result === undefined && this.#pending === undefined) return;
    return this.#settle(result);
  }

  punctuate(punctuator: Punctuator, timestampMs: number): void | Promise<void> {
    this.#pending = undefined;
    const result = punctuator(timestampMs);
    if (result === undefined && this.#pending === undefined) return;
    return this.#settle(result);
  }

  async #settle(result: void | Promise<void>): Promise<void> {
    try {
      await result;
    } catch (error) {
      // The processor failed: its unawaited forwards must not surface as unhandled rejections too.
      this.#pending?.catch(() => undefined);
      this.#pending = undefined;
      throw error;
    }
    // Forwards issued while we waited extend the chain; wait until it stops growing.
    let pending = this.#pending;
    while (pending !== undefined) {
      await pending;
      if (this.#pending === pending) break;
      pending = this.#pending;
    }
    this.#pending = undefined;
  }

  // --- ProcessorContext ---

  get applicationId(): string {
    return this.#host.applicationId;
  }

  get taskId(): string {
    return this.#host.taskId;
  }

  get partition(): number {
    return this.#host.partition;
  }

  recordMetadata(): RecordMetadata | undefined {
    return this.#host.metadata();
  }

  forward(record: AnyRecord, childName?: string): void | Promise<void> {
    let targets = this.#children;
    if (childName !== undefined) {
      const child = this.#childByName.get(childName);
      if (child === undefined) {
        throw new TopologyError(`Processor "${this.name}" has no child named "${childName}"`);
      }
      targets = [child];
    }
    const previous = this.#pending;
    const next = previous === undefined ? dispatch(targets, record) : previous.then(() => dispatch(targets, record));
    if (next !== undefined) this.#pending = next;
    return next;
  }

  getStateStore<V>(name: string): KeyValueStore<V> {
    if (!this.#stores.has(name)) {
      throw new TopologyError(
        `Processor "${this.name}" is not connected to store "${name}": list it in process(supplier, "${name}")`,
      );
    }
    // The value type is the caller's claim, as documented on ProcessorContext.
    return this.#host.store(name) as KeyValueStore<V>;
  }

  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    return this.#host.schedule(this, intervalMs, type, punctuator);
  }

  currentStreamTimeMs(): number {
    return this.#host.streamTimeMs();
  }

  currentSystemTimeMs(): number {
    return this.#host.nowMs();
  }

  recordDropped(reason: string): void {
    this.#host.dropped(this.name, reason);
  }
}
