import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The gateway's Prometheus metrics; no label ever carries a token, a voter or an address. */
export class GatewayMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly produceSeconds: Histogram;
  readonly rateLimited: Counter<'by'>;

  constructor(registry: Registry, inFlight: () => number) {
    this.requests = new Counter({ name: 'votestream_gateway_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
    this.produceSeconds = new Histogram({
      name: 'votestream_gateway_produce_seconds',
      help: 'From a vote handed to the producer to its acknowledgement by Kafka',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.rateLimited = new Counter({ name: 'votestream_gateway_rate_limited_total', help: 'Requests refused with 429, by limit (voter or ip)', labelNames: ['by'], registers: [registry] });
    new Gauge({
      name: 'votestream_gateway_in_flight_votes',
      help: 'Votes handed to Kafka and not yet acknowledged',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
  }
}
