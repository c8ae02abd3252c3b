import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The runtime's own metrics (stores meter themselves through statestores/metered-store.ts). */
export class RuntimeMetrics {
  readonly recordsIn: Counter<'task'>;
  readonly recordsOut: Counter<'task'>;
  readonly commits: Counter<'subtopology'>;
  readonly transactions: Counter<'subtopology'>;
  readonly transactionalProducers: Gauge<'subtopology'>;
  readonly commitLatency: Histogram<'subtopology'>;
  readonly aborts: Counter<'subtopology' | 'reason'>;
  readonly rebalances: Counter<'subtopology'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly restoreRemaining: Gauge<'store' | 'task'>;
  readonly restoreRate: Gauge<'store' | 'task'>;
  readonly restoredRecords: Counter<'store' | 'task'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;
  readonly sinkReplays: Counter<'subtopology'>;
  readonly droppedRecords: Counter<'task'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsIn = new Counter({ name: 'votestream_task_records_in_total', help: 'records consumed per task', labelNames: ['task'], registers });
    this.recordsOut = new Counter({ name: 'votestream_task_records_out_total', help: 'records produced per task (outputs and dead letters)', labelNames: ['task'], registers });
    this.commits = new Counter({ name: 'votestream_commits_total', help: 'successful commits', labelNames: ['subtopology'], registers });
    this.transactions = new Counter({
      name: 'votestream_transactions_total',
      help: 'Kafka transactions committed: one per commit with KIP-447, one per task partition with work without it (kafkajs)',
      labelNames: ['subtopology'],
      registers,
    });
    this.transactionalProducers = new Gauge({
      name: 'votestream_transactional_producers',
      help: 'transactional producers open: one per thread with KIP-447, one per assigned partition without it (kafkajs)',
      labelNames: ['subtopology'],
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'votestream_commit_latency_seconds',
      help: 'time to commit a batch (outputs, changelog, offsets, stores)',
      labelNames: ['subtopology'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.aborts = new Counter({ name: 'votestream_aborts_total', help: 'aborted transactions or batches', labelNames: ['subtopology', 'reason'], registers });
    this.rebalances = new Counter({ name: 'votestream_rebalances_total', help: 'assignments received', labelNames: ['subtopology'], registers });
    this.lag = new Gauge({ name: 'votestream_consumer_lag', help: 'records behind the end offset, per partition', labelNames: ['topic', 'partition'], registers });
    this.restoreRemaining = new Gauge({ name: 'votestream_restore_records_remaining', help: 'changelog records left to restore', labelNames: ['store', 'task'], registers });
    this.restoreRate = new Gauge({ name: 'votestream_restore_records_per_second', help: 'rate of the last restore', labelNames: ['store', 'task'], registers });
    this.restoredRecords = new Counter({ name: 'votestream_restored_records_total', help: 'changelog records restored', labelNames: ['store', 'task'], registers });
    this.sinkReplays = new Counter({
      name: 'votestream_sink_replays_total',
      help: 'task partitions replayed from behind the committed offset because a sink store lost state',
      labelNames: ['subtopology'],
      registers,
    });
    this.droppedRecords = new Counter({
      name: 'votestream_dropped_records_total',
      help: "records a node skipped (a null key or value in an aggregation or join), as Kafka Streams' dropped-records-total",
      labelNames: ['task'],
      registers,
    });
    this.deadLettered = new Counter({ name: 'votestream_dead_lettered_total', help: 'records sent to a dead-letter topic', labelNames: ['topic', 'reason'], registers });
  }
}
