import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';

export type MeteredOperation = 'get' | 'getMany' | 'put' | 'putAll' | 'delete' | 'range';

type Labels = 'store' | 'task' | 'op';

/**
 * The metrics of all metered stores of one registry. A worker has one store per task with the same
 * store name, and prom-client refuses a second metric of the same name in a registry, so the
 * metrics are created once per registry and the stores are told apart by their labels.
 */
class StoreMetrics {
  readonly operations: Counter<Labels>;
  readonly errors: Counter<Labels>;
  readonly latency: Histogram<Labels>;
  readonly live = new Set<MeteredKeyValueStore<unknown>>();

  constructor(registry: Registry) {
    const live = this.live;
    this.operations = new Counter({
      name: 'votestream_store_operations_total',
      help: 'State store operations, by store, task and operation',
      labelNames: ['store', 'task', 'op'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'votestream_store_operation_errors_total',
      help: 'State store operations that failed, by store, task and operation',
      labelNames: ['store', 'task', 'op'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'votestream_store_operation_duration_seconds',
      help: 'State store operation latency (get, getMany, put, putAll, delete)',
      labelNames: ['store', 'task', 'op'],
      // Store reads and buffered writes take microseconds; LevelDB misses and batches milliseconds.
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers: [registry],
    });
    new Gauge<'store' | 'task'>({
      name: 'votestream_store_entries',
      help: 'Entries in the state store (approximateCount), by store and task',
      labelNames: ['store', 'task'],
      registers: [registry],
      // Asked at scrape time only: no timer, and closed stores drop out by themselves.
      async collect() {
        this.reset();
        for (const store of live) {
          try {
            this.set({ store: store.name, task: store.task }, await store.approximateCount());
          } catch {
            // Closed between the snapshot of `live` and this call: it has no count any more.
          }
        }
      },
    });
  }
}

const metricsByRegistry = new WeakMap<Registry, StoreMetrics>();

function metricsFor(registry: Registry): StoreMetrics {
  let metrics = metricsByRegistry.get(registry);
  if (metrics === undefined) {
    metrics = new StoreMetrics(registry);
    metricsByRegistry.set(registry, metrics);
  }
  return metrics;
}

/** The metering layer: counts and times every operation, and reports the entry count on scrape. */
export class MeteredKeyValueStore<V> implements KeyValueStore<V> {
  readonly name: string;
  /** The `task` label; empty when the store does not belong to a task. */
  readonly task: string;
  private readonly metrics: StoreMetrics;

  constructor(
    private readonly inner: KeyValueStore<V>,
    registry: Registry,
    options: { readonly task?: string } = {},
  ) {
    this.name = inner.name;
    this.task = options.task ?? '';
    this.metrics = metricsFor(registry);
  }

  async open(): Promise<void> {
    await this.inner.open();
    this.metrics.live.add(this as MeteredKeyValueStore<unknown>);
  }

  get(key: string): Promise<V | undefined> {
    return this.timed('get', () => this.inner.get(key));
  }

  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    return this.timed('getMany', () => this.inner.getMany(keys));
  }

  put(key: string, value: V): Promise<void> {
    return this.timed('put', () => this.inner.put(key, value));
  }

  putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    return this.timed('putAll', () => this.inner.putAll(entries));
  }

  delete(key: string): Promise<void> {
    return this.timed('delete', () => this.inner.delete(key));
  }

  /** Counted once per range() call; not timed, since its duration is the consumer's pace. */
  range(options?: RangeOptions): AsyncIterable<KeyValue<V>> {
    this.metrics.operations.inc(this.labels('range'));
    try {
      return this.inner.range(options);
    } catch (err) {
      this.metrics.errors.inc(this.labels('range'));
      throw err;
    }
  }

  approximateCount(): Promise<number> {
    return this.inner.approximateCount();
  }

  async close(): Promise<void> {
    this.metrics.live.delete(this as MeteredKeyValueStore<unknown>);
    await this.inner.close();
  }

  private async timed<T>(op: MeteredOperation, run: () => Promise<T>): Promise<T> {
    const labels = this.labels(op);
    this.metrics.operations.inc(labels);
    const end = this.metrics.latency.startTimer(labels);
    try {
      return await run();
    } catch (err) {
      this.metrics.errors.inc(labels);
      throw err;
    } finally {
      end();
    }
  }

  private labels(op: MeteredOperation): Record<Labels, string> {
    return { store: this.name, task: this.task, op };
  }
}
