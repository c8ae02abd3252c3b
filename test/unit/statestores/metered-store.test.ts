import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKeyValueStore } from '../../../statestores/in-memory-store.js';
import { MeteredKeyValueStore } from '../../../statestores/metered-store.js';
import { collect } from './helpers.js';

async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values: all } = await metric.get();
  return all.map(({ labels, value }) => ({ labels: labels as Record<string, string | number>, value }));
}

type Sample = { labels: Record<string, string | number>; value: number };

function byOp(samples: Sample[]): Sample[] {
  const key = (s: Sample) => `${String(s.labels.task)}/${String(s.labels.op)}`;
  return [...samples].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('MeteredKeyValueStore', () => {
  let registry: Registry;
  let store: MeteredKeyValueStore<string>;

  beforeEach(async () => {
    registry = new Registry();
    store = new MeteredKeyValueStore(new InMemoryKeyValueStore<string>('voters'), registry, { task: 'dedup-0' });
    await store.open();
  });

  it('counts operations by store, task and op', async () => {
    await store.put('a', '1');
    await store.put('b', '2');
    await store.putAll([{ key: 'c', value: '3' }]);
    await store.get('a');
    await store.get('a');
    await store.get('zz');
    await store.getMany(['a', 'b']);
    await store.delete('c');
    await collect(store.range());
    const labels = { store: 'voters', task: 'dedup-0' };
    // The series order is the order of the scrape-time flush, which carries no meaning.
    expect(byOp(await values(registry, 'votestream_store_operations_total'))).toEqual(
      byOp([
        { labels: { ...labels, op: 'put' }, value: 2 },
        { labels: { ...labels, op: 'putAll' }, value: 1 },
        { labels: { ...labels, op: 'get' }, value: 3 },
        { labels: { ...labels, op: 'getMany' }, value: 1 },
        { labels: { ...labels, op: 'delete' }, value: 1 },
        { labels: { ...labels, op: 'range' }, value: 1 },
      ]),
    );
    const latency = await values(registry, 'votestream_store_operation_duration_seconds');
    const histogramCount = (op: string) =>
      latency.find((v) => v.labels.op === op && v.labels.le === '+Inf')?.value;
    // Sampled: the first operation of each op is always timed, the next one only 64 ops later.
    expect(histogramCount('get')).toBe(1);
    expect(histogramCount('getMany')).toBe(1);
    expect(histogramCount('put')).toBe(1);
    expect(histogramCount('putAll')).toBe(1);
    expect(histogramCount('delete')).toBe(1);
    expect(histogramCount('range')).toBeUndefined();
    expect(await values(registry, 'votestream_store_operation_errors_total')).toEqual([]);
  });

  it('counts failures', async () => {
    await expect(store.put('bad\uD800', 'x')).rejects.toThrow();
    expect(await values(registry, 'votestream_store_operation_errors_total')).toEqual([
      { labels: { store: 'voters', task: 'dedup-0', op: 'put' }, value: 1 },
    ]);
  });

  it('reports entries on scrape, per task, and forgets closed stores', async () => {
    const other = new MeteredKeyValueStore(new InMemoryKeyValueStore<string>('voters'), registry, { task: 'dedup-1' });
    await other.open();
    await store.putAll([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    await other.put('x', '1');
    expect(await values(registry, 'votestream_store_entries')).toEqual([
      { labels: { store: 'voters', task: 'dedup-0' }, value: 2 },
      { labels: { store: 'voters', task: 'dedup-1' }, value: 1 },
    ]);
    await other.close();
    expect(await values(registry, 'votestream_store_entries')).toEqual([
      { labels: { store: 'voters', task: 'dedup-0' }, value: 2 },
    ]);
    expect(await registry.metrics()).toContain('votestream_store_entries{store="voters",task="dedup-0"} 2');
  });
});
