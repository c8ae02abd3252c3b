/**
 * The metrics every fenced sink reports, labelled by sink kind. Get-or-create on the given registry:
 * the runtime creates one sink per task and they all share the process registry, where registering
 * the same name twice would throw.
 */
import { Counter, Histogram, Registry } from 'prom-client';

type Label = 'sink';

function counter(registry: Registry, name: string, help: string): Counter<Label> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<Label>;
  return new Counter({ name, help, labelNames: ['sink'], registers: [registry] });
}

function histogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram<Label> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<Label>;
  return new Histogram({ name, help, labelNames: ['sink'], buckets, registers: [registry] });
}

export class SinkMetrics {
  readonly batches: Counter.Internal;
  readonly applied: Counter.Internal;
  readonly fenced: Counter.Internal;
  readonly retries: Counter.Internal;
  readonly writeSeconds: Histogram.Internal<Label>;

  /** Without a registry the metrics go to a private one, so a sink never touches prom-client's global. */
  constructor(sink: 'redis' | 'dynamodb', registry: Registry = new Registry()) {
    const labels = { sink };
    this.batches = counter(registry, 'votestream_sink_batches_total', 'Batches handed to the sink by write()').labels(labels);
    this.applied = counter(registry, 'votestream_sink_records_applied_total', 'Records applied to the external system').labels(labels);
    this.fenced = counter(registry, 'votestream_sink_records_fenced_total', 'Records skipped because the fence already covered them (replays)').labels(labels);
    this.retries = counter(registry, 'votestream_sink_retries_total', 'Write attempts retried after a transient failure').labels(labels);
    this.writeSeconds = histogram(
      registry,
      'votestream_sink_write_seconds',
      'Duration of write() for one batch, retries included',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ).labels(labels);
  }
}
