import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from '../../runtime/metrics.js';

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the registry in Prometheus text format on /metrics', async () => {
    const registry = createMetricsRegistry({ app: 'test' });
    const counter = new Counter({ name: 'votestream_test_total', help: 'a test counter', registers: [registry] });
    counter.inc(3);
    server = await startMetricsServer(registry, 0);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('# TYPE votestream_test_total counter');
    expect(body).toContain('votestream_test_total{app="test"} 3');
  });

  it('answers 404 with a hint elsewhere', async () => {
    server = await startMetricsServer(createMetricsRegistry(), 0);
    const res = await fetch(server.url.replace('/metrics', '/nope'));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not found: try /metrics, /healthz or /readyz');
  });

  it('answers /readyz with 200 when ready and 503 with the reasons when not', async () => {
    let state: { ready: boolean; reasons?: string[] } = { ready: false, reasons: ['dedup: kafka: connection refused'] };
    server = await startMetricsServer(createMetricsRegistry(), 0, '127.0.0.1', () => state);
    const url = server.url.replace('/metrics', '/readyz');
    const down = await fetch(url);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ready: false, reasons: ['dedup: kafka: connection refused'] });
    state = { ready: true };
    const up = await fetch(url);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ ready: true });
  });
});
