import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KeyValue, KeyValueStore, RangeOptions } from './key-value-store.js';

export type MeteredOperation = 'get' | 'getMany' | 'put' | 'putAll' | 'delete' | 'range';

type Labels = 'store' | 'task' | 'op';

/**
 * One operation in 64 of each op of each store is timed: a histogram observation (hrtime, label
 * hashing, bucket search) on every operation cost ~11% of the dedup worker's CPU, several times an
 * in-memory get. A power of two, so the sampling test is a mask.
 */
const LATENCY_SAMPLE_RATE = 64;
const SAMPLE_MASK = LATENCY_SAMPLE_RATE - 1;

/** The operation counts of one op of one store, kept as plain numbers until a scrape asks. */
class OpMeter {
  /** Operations since the store was created; also the sampling counter. */
  count = 0;
  private flushed = 0;
  /** Built once: prom-client hashes the labels object on every call, so at least don't allocate it. */
  readonly labels: Record<Labels, string>;
  /** Bound once, so the unsampled path hands the same function to every promise. */
  readonly onError: (err: unknown) => never;

  constructor(
    private readonly metrics: StoreMetrics,
    store: string,
    task: string,
    op: MeteredOperation,
    failed: (meter: OpMeter, err: unknown) => never,
  ) {
    this.labels = { store, task, op };
    this.onError = (err) => failed(this, err);
  }

  /** Counts the operation; returns its start time when it is one of the sampled ones, else -1. */
  begin(): number {
    // `& SAMPLE_MASK` truncates to 32 bits, which keeps the residue mod 64 exact up to 2^53.
    return (++this.count & SAMPLE_MASK) === 1 ? performance.now() : -1;
  }

  end<T>(promise: Promise<T>, start: number): Promise<T> {
    // A rejection handler is the one thing every operation needs: errors are counted on every op.
    if (start < 0) return promise.then(undefined, this.onError);
    return promise.then(
      (value) => {
        this.observe(start);
        return value;
      },
      (err: unknown) => {
        this.observe(start);
        return this.onError(err);
      },
    );
  }

  /** Folds the operations since the last flush into the shared counter (other stores add theirs). */
  flush(): void {
    const delta = this.count - this.flushed;
    // No inc(0): an op never used must not appear as a series, as before.
    if (delta === 0) return;
    this.flushed = this.count;
    this.metrics.operations.inc(this.labels, delta);
  }

  private observe(start: number): void {
    this.metrics.latency.observe(this.labels, (performance.now() - start) / 1000);
  }
}

/**
 * The metrics of all metered stores of one registry. A worker has one store per task with the same
 * store name, and prom-client refuses a second metric of the same name in a registry, so the
 * metrics are created once per registry and the stores are told apart by their labels.
 */
class StoreMetrics {
  readonly operations: Counter<Labels>;
  readonly errors: Counter<Labels>;
  readonly latency: Histogram<Labels>;
  /** Open stores, with their unflushed operation counts. */
  readonly live = new Map<MeteredKeyValueStore<unknown>, readonly OpMeter[]>();

  constructor(registry: Registry) {
    const live = this.live;
    this.operations = new Counter({
      name: 'votestream_store_operations_total',
      help: 'State store operations, by store, task and operation',
      labelNames: ['store', 'task', 'op'],
      registers: [registry],
      // Stores count in plain fields; the counter learns the totals only when someone reads it.
      collect() {
        for (const meters of live.values()) for (const meter of meters) meter.flush();
      },
    });
    this.errors = new Counter({
      name: 'votestream_store_operation_errors_total',
      help: 'State store operations that failed, by store, task and operation',
      labelNames: ['store', 'task', 'op'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'votestream_store_operation_duration_seconds',
      help:
        `State store operation latency (get, getMany, put, putAll, delete), sampled: ` +
        `the first and then every ${LATENCY_SAMPLE_RATE}th operation of each op of each store`,
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
        for (const store of live.keys()) {
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

/**
 * The metering layer: counts every operation, times a sample of them, and reports the entry count
 * on scrape. It sits on the hot path of every task, so an operation costs two field updates and one
 * rejection handler; prom-client is touched only on scrape, on errors and on sampled operations.
 */
export class MeteredKeyValueStore<V> implements KeyValueStore<V> {
  readonly name: string;
  /** The `task` label; empty when the store does not belong to a task. */
  readonly task: string;
  private readonly metrics: StoreMetrics;
  // One field per op rather than a lookup by name: the hot path stays a property load.
  private readonly getMeter: OpMeter;
  private readonly getManyMeter: OpMeter;
  private readonly putMeter: OpMeter;
  private readonly putAllMeter: OpMeter;
  private readonly deleteMeter: OpMeter;
  private readonly rangeMeter: OpMeter;
  private readonly meters: readonly OpMeter[];

  constructor(
    private readonly inner: KeyValueStore<V>,
    registry: Registry,
    options: { readonly task?: string } = {},
  ) {
    this.name = inner.name;
    this.task = options.task ?? '';
    this.metrics = metricsFor(registry);
    const failed = (meter: OpMeter, err: unknown): never => this.failed(meter, err);
    const meter = (op: MeteredOperation) => new OpMeter(this.metrics, this.name, this.task, op, failed);
    this.getMeter = meter('get');
    this.getManyMeter = meter('getMany');
    this.putMeter = meter('put');
    this.putAllMeter = meter('putAll');
    this.deleteMeter = meter('delete');
    this.rangeMeter = meter('range');
    this.meters = [this.getMeter, this.getManyMeter, this.putMeter, this.putAllMeter, this.deleteMeter, this.rangeMeter];
  }

  async open(): Promise<void> {
    await this.inner.open();
    this.metrics.live.set(this as MeteredKeyValueStore<unknown>, this.meters);
  }

  // Each op calls the inner store directly: no async wrapper, no closure. The try/catch keeps a
  // synchronous throw of the inner store a rejection, as the async wrapper made it.

  get(key: string): Promise<V | undefined> {
    const meter = this.getMeter;
    const start = meter.begin();
    let result: Promise<V | undefined>;
    try {
      result = this.inner.get(key);
    } catch (err) {
      return this.rejected(meter, start, err);
    }
    return meter.end(result, start);
  }

  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const meter = this.getManyMeter;
    const start = meter.begin();
    let result: Promise<(V | undefined)[]>;
    try {
      result = this.inner.getMany(keys);
    } catch (err) {
      return this.rejected(meter, start, err);
    }
    return meter.end(result, start);
  }

  put(key: string, value: V): Promise<void> {
    const meter = this.putMeter;
    const start = meter.begin();
    let result: Promise<void>;
    try {
      result = this.inner.put(key, value);
    } catch (err) {
      return this.rejected(meter, start, err);
    }
    return meter.end(result, start);
  }

  putAll(entries: readonly KeyValue<V>[]): Promise<void> {
    const meter = this.putAllMeter;
    const start = meter.begin();
    let result: Promise<void>;
    try {
      result = this.inner.putAll(entries);
    } catch (err) {
      return this.rejected(meter, start, err);
    }
    return meter.end(result, start);
  }

  delete(key: string): Promise<void> {
    const meter = this.deleteMeter;
    const start = meter.begin();
    let result: Promise<void>;
    try {
      result = this.inner.delete(key);
    } catch (err) {
      return this.rejected(meter, start, err);
    }
    return meter.end(result, start);
  }

  /** Counted once per range() call; not timed, since its duration is the consumer's pace. */
  range(options?: RangeOptions): AsyncIterable<KeyValue<V>> {
    this.rangeMeter.count++;
    try {
      return this.inner.range(options);
    } catch (err) {
      return this.failed(this.rangeMeter, err);
    }
  }

  approximateCount(): Promise<number> {
    return this.inner.approximateCount();
  }

  async close(): Promise<void> {
    this.metrics.live.delete(this as MeteredKeyValueStore<unknown>);
    // No scrape will ask a closed store again: its counts go into the counter now or never.
    this.flush();
    await this.inner.close();
  }

  private failed(meter: OpMeter, err: unknown): never {
    this.metrics.errors.inc(meter.labels);
    // Operations before open() or after close() are not flushed by scrapes; they fail (the stores
    // check), so this is where they are folded in.
    if (!this.metrics.live.has(this as MeteredKeyValueStore<unknown>)) this.flush();
    throw err;
  }

  private rejected<T>(meter: OpMeter, start: number, err: unknown): Promise<T> {
    return meter.end<T>(Promise.reject(err), start);
  }

  private flush(): void {
    for (const meter of this.meters) meter.flush();
  }
}
