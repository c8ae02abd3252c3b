import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import type { KeyValueStore } from '../../../statestores/key-value-store.js';
import { MeteredKeyValueStore } from '../../../statestores/metered-store.js';
import { collect } from './helpers.js';

const OPS = 'votestream_store_operations_total';
const ERRORS = 'votestream_store_operation_errors_total';
const LATENCY = 'votestream_store_operation_duration_seconds';

/** The value of one series, read through the metric's get() (which runs its collect hook). */
async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value;
}

const observations = (registry: Registry, task: string, op: string): Promise<number | undefined> =>
  value(registry, LATENCY, { store: 'voters', task, op, le: '+Inf' });

/** Observations after n ops under the rule "the first, then every 64th". */
const sampled = (n: number): number => (n === 0 ? 0 : Math.floor((n - 1) / 64) + 1);

describe('MeteredKeyValueStore counts and sampling', () => {
  let registry: Registry;
  let a: MeteredKeyValueStore<string>;
  let b: MeteredKeyValueStore<string>;

  beforeEach(async () => {
    registry = new Registry();
    a = new MeteredKeyValueStore(new InMemoryKeyValueStore<string>('voters'), registry, { task: 'dedup-0' });
    b = new MeteredKeyValueStore(new InMemoryKeyValueStore<string>('voters'), registry, { task: 'dedup-1' });
    await a.open();
    await b.open();
  });

  it('shows exact totals of two stores sharing a registry, at every read, without counting twice', async () => {
    for (let i = 0; i < 1000; i++) await a.get(`k${i % 7}`);
    for (let i = 0; i < 777; i++) await b.put(`k${i}`, 'v');
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'get' })).toBe(1000);
    expect(await value(registry, OPS, { task: 'dedup-1', op: 'put' })).toBe(777);
    // A second read between ops adds only what happened since the first.
    for (let i = 0; i < 5; i++) await a.get('k1');
    await b.getMany(['k1', 'k2']);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'get' })).toBe(1005);
    expect(await value(registry, OPS, { task: 'dedup-1', op: 'put' })).toBe(777);
    expect(await value(registry, OPS, { task: 'dedup-1', op: 'getMany' })).toBe(1);
    // registry.metrics() reads the same totals, and ops never used have no series.
    const text = await registry.metrics();
    expect(text).toContain(`${OPS}{store="voters",task="dedup-0",op="get"} 1005`);
    expect(text).toContain(`${OPS}{store="voters",task="dedup-1",op="put"} 777`);
    expect(text).not.toContain(`${OPS}{store="voters",task="dedup-0",op="put"}`);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'get' })).toBe(1005);
  });

  it('counts operations issued concurrently, before any of them settled', async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => a.put(`k${i}`, 'v')));
    await Promise.all(Array.from({ length: 200 }, (_, i) => a.get(`k${i}`)));
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'put' })).toBe(300);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'get' })).toBe(200);
  });

  it('keeps the counts of a closed store, including those after its last scrape', async () => {
    for (let i = 0; i < 10; i++) await a.put(`k${i}`, 'v');
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'put' })).toBe(10);
    for (let i = 0; i < 90; i++) await a.put(`k${i}`, 'v');
    await collect(a.range());
    await a.close();
    await b.get('x');
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'put' })).toBe(100);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'range' })).toBe(1);
    expect(await value(registry, OPS, { task: 'dedup-1', op: 'get' })).toBe(1);
    expect(await registry.metrics()).toContain(`${OPS}{store="voters",task="dedup-0",op="put"} 100`);
  });

  it('keeps counting a store that is reopened after close', async () => {
    await a.put('k', 'v');
    await a.close();
    await a.open();
    await a.put('k', 'v');
    await a.put('k', 'v');
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'put' })).toBe(3);
  });

  it('counts every failure, not only sampled ones, and rejects with the inner error', async () => {
    for (let i = 0; i < 100; i++) await expect(a.put('bad\uD800', 'x')).rejects.toThrow();
    for (let i = 0; i < 3; i++) await a.put('ok', 'x');
    expect(await value(registry, ERRORS, { task: 'dedup-0', op: 'put' })).toBe(100);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'put' })).toBe(103);
    // Failed sampled ops are timed too: ops 1 and 65 of the 103.
    expect(await observations(registry, 'dedup-0', 'put')).toBe(2);
    expect(await value(registry, ERRORS, { task: 'dedup-1', op: 'put' })).toBeUndefined();
  });

  it('counts operations on a closed store, which fail', async () => {
    await a.close();
    await expect(a.get('k')).rejects.toThrow();
    expect(() => a.range()).toThrow();
    expect(await value(registry, ERRORS, { task: 'dedup-0', op: 'get' })).toBe(1);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'get' })).toBe(1);
    expect(await value(registry, ERRORS, { task: 'dedup-0', op: 'range' })).toBe(1);
    expect(await value(registry, OPS, { task: 'dedup-0', op: 'range' })).toBe(1);
  });

  it('turns a synchronous throw of the inner store into a counted rejection', async () => {
    const boom = new Error('boom');
    const inner = new InMemoryKeyValueStore<string>('voters');
    const throwing: KeyValueStore<string> = Object.assign(Object.create(inner) as KeyValueStore<string>, {
      get(): Promise<string | undefined> {
        throw boom;
      },
    });
    const store = new MeteredKeyValueStore(throwing, registry, { task: 'sync' });
    await store.open();
    const result = store.get('k');
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(boom);
    expect(await value(registry, ERRORS, { task: 'sync', op: 'get' })).toBe(1);
    expect(await value(registry, OPS, { task: 'sync', op: 'get' })).toBe(1);
    expect(await observations(registry, 'sync', 'get')).toBe(1);
  });

  it('times the first operation and then every 64th, per op and per store', async () => {
    for (const n of [1, 64, 65, 128, 129, 1000]) {
      const reg = new Registry();
      const store = new MeteredKeyValueStore(new InMemoryKeyValueStore<string>('voters'), reg, { task: 't' });
      await store.open();
      for (let i = 0; i < n; i++) await store.get('k');
      expect(await observations(reg, 't', 'get'), `${n} gets`).toBe(sampled(n));
    }
    expect([1, 64, 65, 1000].map(sampled)).toEqual([1, 1, 2, 16]);
    // Each op and each store has its own counter: the first put and b's first get are timed too.
    for (let i = 0; i < 1000; i++) await a.get('k');
    for (let i = 0; i < 10; i++) await a.put('k', 'v');
    await b.get('k');
    expect(await observations(registry, 'dedup-0', 'get')).toBe(16);
    expect(await observations(registry, 'dedup-0', 'put')).toBe(1);
    expect(await observations(registry, 'dedup-1', 'get')).toBe(1);
    const latency = registry.getSingleMetric(LATENCY);
    expect((await latency?.get())?.help).toMatch(/sampled.*every 64th/);
  });
});
