import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import type { Sink, SinkRecord, SinkSupplier } from '../../../sinks/sink.js';
import type { KStream } from '../../../topology/kstream.js';
import type { Processor, ProcessorContext } from '../../../topology/processor.js';
import type { StreamRecord } from '../../../topology/record.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';
import type { Topology } from '../../../topology/topology.js';

const str = Serdes.string();
const int = Serdes.int32();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function start(topology: Topology, options: ConstructorParameters<typeof TopologyTestDriver>[1] = {}): TopologyTestDriver {
  driver = new TopologyTestDriver(topology, options);
  return driver;
}

function numbers(): { builder: StreamsBuilder; input: KStream<string, number> } {
  const builder = new StreamsBuilder();
  return { builder, input: builder.stream('in', { key: str, value: int }) };
}

async function pipeNumbers(d: TopologyTestDriver, values: number[]): Promise<void> {
  const input = d.createInputTopic('in', str, int);
  await input.pipeKeyValueList(values.map((v, i) => ({ key: `k${i}`, value: v })));
}

describe('KStream operators', () => {
  it('filter and filterNot keep complementary records', async () => {
    const builder = new StreamsBuilder();
    const input = builder.stream('in', { key: str, value: int });
    input.filter((_k, v) => v % 2 === 0).to('even');
    input.filterNot((_k, v) => v % 2 === 0).to('odd');
    const d = start(builder.build());
    await pipeNumbers(d, [1, 2, 3, 4]);
    expect(d.createOutputTopic('even', str, int).readKeyValuesToList()).toEqual([
      { key: 'k1', value: 2 },
      { key: 'k3', value: 4 },
    ]);
    expect(d.createOutputTopic('odd', str, int).readKeyValuesToList()).toEqual([
      { key: 'k0', value: 1 },
      { key: 'k2', value: 3 },
    ]);
  });

  it('map changes key and value; the sink needs serdes for both', async () => {
    const { builder, input } = numbers();
    input.map((k, v) => ({ key: v, value: `${k}=${v}` })).to('out', { key: int, value: str });
    const d = start(builder.build());
    await pipeNumbers(d, [7, 8]);
    expect(d.createOutputTopic('out', int, str).readKeyValuesToList()).toEqual([
      { key: 7, value: 'k0=7' },
      { key: 8, value: 'k1=8' },
    ]);
  });

  it('mapValues keeps the key and its serde', async () => {
    const { builder, input } = numbers();
    input.mapValues((v, k) => `${k}:${v * 10}`).to('out', { value: str });
    const d = start(builder.build());
    await pipeNumbers(d, [1, 2]);
    expect(d.createOutputTopic('out', str, str).readKeyValuesToList()).toEqual([
      { key: 'k0', value: 'k0:10' },
      { key: 'k1', value: 'k1:20' },
    ]);
  });

  it('selectKey changes the key and keeps the value serde', async () => {
    const { builder, input } = numbers();
    input.selectKey((_k, v) => `n${v}`).to('out', { key: str });
    const d = start(builder.build());
    await pipeNumbers(d, [5]);
    expect(d.createOutputTopic('out', str, int).readKeyValuesToList()).toEqual([{ key: 'n5', value: 5 }]);
  });

  it('flatMap and flatMapValues emit zero or more records in order', async () => {
    const { builder, input } = numbers();
    input.flatMap((k, v) => Array.from({ length: v }, (_, i) => ({ key: `${k}.${i}`, value: i }))).to('fm', { key: str, value: int });
    input.flatMapValues((v) => (v > 1 ? [v, -v] : [])).to('fmv', { value: int });
    const d = start(builder.build());
    await pipeNumbers(d, [0, 2]);
    expect(d.createOutputTopic('fm', str, int).readKeyValuesToList()).toEqual([
      { key: 'k1.0', value: 0 },
      { key: 'k1.1', value: 1 },
    ]);
    expect(d.createOutputTopic('fmv', str, int).readKeyValuesToList()).toEqual([
      { key: 'k1', value: 2 },
      { key: 'k1', value: -2 },
    ]);
  });

  it('peek sees every record and forwards it unchanged', async () => {
    const seen: string[] = [];
    const { builder, input } = numbers();
    input.peek((k, v) => seen.push(`${k}/${v}`)).to('out');
    const d = start(builder.build());
    await pipeNumbers(d, [3, 4]);
    expect(seen).toEqual(['k0/3', 'k1/4']);
    expect(d.createOutputTopic('out', str, int).readValuesToList()).toEqual([3, 4]);
  });

  it('split routes to the first matching branch, then the default branch', async () => {
    const { builder, input } = numbers();
    const branches = input
      .split({ name: 'route' })
      .branch((_k, v) => v < 0, 'negative')
      .branch((_k, v) => v < 10, 'small')
      .defaultBranch('large');
    expect(Object.keys(branches)).toEqual(['negative', 'small', 'large']);
    branches.negative.to('neg');
    branches.small.to('small');
    branches.large.to('large');
    const d = start(builder.build());
    await pipeNumbers(d, [-1, 5, 50, -7, 9]);
    expect(d.createOutputTopic('neg', str, int).readValuesToList()).toEqual([-1, -7]);
    expect(d.createOutputTopic('small', str, int).readValuesToList()).toEqual([5, 9]);
    expect(d.createOutputTopic('large', str, int).readValuesToList()).toEqual([50]);
  });

  it('split without a default branch drops unmatched records', async () => {
    const { builder, input } = numbers();
    const { one } = input.split().branch((_k, v) => v === 1, 'one').noDefaultBranch();
    one.to('one');
    const d = start(builder.build());
    await pipeNumbers(d, [1, 2, 1]);
    expect(d.createOutputTopic('one', str, int).readKeyValuesToList()).toEqual([
      { key: 'k0', value: 1 },
      { key: 'k2', value: 1 },
    ]);
  });

  it('merge interleaves two streams in processing order', async () => {
    const builder = new StreamsBuilder();
    const a = builder.stream('a', { key: str, value: int });
    const b = builder.stream('b', { key: str, value: int });
    a.merge(b.mapValues((v) => v * 100)).to('out', { value: int });
    const d = start(builder.build());
    await d.createInputTopic('a', str, int).pipeInput('x', 1);
    await d.createInputTopic('b', str, int).pipeInput('y', 2);
    await d.createInputTopic('a', str, int).pipeInput('z', 3);
    expect(d.createOutputTopic('out', str, int).readKeyValuesToList()).toEqual([
      { key: 'x', value: 1 },
      { key: 'y', value: 200 },
      { key: 'z', value: 3 },
    ]);
  });

  it('to(topic) writes timestamp, headers and partition', async () => {
    const { builder, input } = numbers();
    input.to('out');
    const d = start(builder.build(), { partitions: 12 });
    await d.createInputTopic('in', str, int).pipeInput('u42', 1, 1234, { trace: Buffer.from('t1') });
    expect(d.createOutputTopic('out', str, int).readRecordsToList()).toEqual([
      { key: 'u42', value: 1, timestamp: 1234, headers: { trace: Buffer.from('t1') }, partition: 11 },
    ]);
  });

  it('to(sink) hands deserialized records with their input coordinates to the sink at commit', async () => {
    const calls: string[] = [];
    const batches: SinkRecord<string, number>[][] = [];
    const sinkSupplier: SinkSupplier<string, number> = {
      name: 'memory-sink',
      create(): Sink<string, number> {
        return {
          open: async (task) => void calls.push(`open ${task.taskId} p${task.partition}`),
          write: async (batch) => {
            calls.push(`write ${batch.length}`);
            batches.push([...batch]);
          },
          flush: async () => void calls.push('flush'),
          close: async () => void calls.push('close'),
        };
      },
    };
    const { builder, input } = numbers();
    input.filter((_k, v) => v > 0).to(sinkSupplier);
    const d = start(builder.build());
    await pipeNumbers(d, [1, -1, 2]);
    await d.close();
    expect(calls).toEqual(['open 0_0 p0', 'write 1', 'flush', 'flush', 'write 1', 'flush', 'flush', 'close']);
    expect(batches).toEqual([
      [{ topic: 'in', partition: 0, offset: 0, timestamp: 0, key: 'k0', value: 1, headers: {} }],
      [{ topic: 'in', partition: 0, offset: 2, timestamp: 0, key: 'k2', value: 2, headers: {} }],
    ]);
  });

  it('process attaches a custom processor that may change types and use a store', async () => {
    class RunningTotal implements Processor<string, number, string, string> {
      private context!: ProcessorContext<string, string>;
      init(context: ProcessorContext<string, string>): void {
        this.context = context;
      }
      async process(record: StreamRecord<string, number>): Promise<void> {
        const store = this.context.getStateStore<number>('totals');
        const total = ((await store.get('all')) ?? 0) + record.value;
        await store.put('all', total);
        await this.context.forward({ ...record, value: `total=${total}` });
      }
    }
    const { builder, input } = numbers();
    builder.addStateStore({ name: 'totals' });
    input.process(() => new RunningTotal(), 'totals').to('out', { key: str, value: str });
    const d = start(builder.build());
    await pipeNumbers(d, [1, 2, 3]);
    expect(d.createOutputTopic('out', str, str).readValuesToList()).toEqual(['total=1', 'total=3', 'total=6']);
    expect(await (await d.getKeyValueStore<number>('totals')).get('all')).toBe(6);
  });

  it('dedupe passes the first record per identity and routes repeats to duplicates', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore<string>({ name: 'voters' });
    const votes = builder.stream('votes', { key: str, value: Serdes.json<{ voteId: string; electionId: string }>() });
    const { accepted, duplicates } = votes.dedupe({
      key: (voter, vote) => `${vote.electionId}:${voter}`,
      store: 'voters',
      storeValue: (_voter, vote) => vote.voteId,
    });
    accepted.mapValues((v) => v.voteId).to('accepted', { value: str });
    duplicates.mapValues((v) => v.voteId).to('duplicates', { value: str });
    const d = start(builder.build());
    const input = d.createInputTopic('votes', str, Serdes.json<{ voteId: string; electionId: string }>());
    await input.pipeInput('u1', { voteId: 'v1', electionId: 'e1' });
    await input.pipeInput('u1', { voteId: 'v2', electionId: 'e1' });
    await input.pipeInput('u1', { voteId: 'v3', electionId: 'e2' });
    await input.pipeInput('u2', { voteId: 'v4', electionId: 'e1' });
    await input.pipeInput('u2', { voteId: 'v5', electionId: 'e1' });
    expect(d.createOutputTopic('accepted', str, str).readKeyValuesToList()).toEqual([
      { key: 'u1', value: 'v1' },
      { key: 'u1', value: 'v3' },
      { key: 'u2', value: 'v4' },
    ]);
    expect(d.createOutputTopic('duplicates', str, str).readKeyValuesToList()).toEqual([
      { key: 'u1', value: 'v2' },
      { key: 'u2', value: 'v5' },
    ]);
    const store = await d.getKeyValueStore<string>('voters');
    expect(await store.getMany(['e1:u1', 'e2:u1', 'e1:u2', 'e2:u2'])).toEqual(['v1', 'v3', 'v4', undefined]);
  });

  it('groupByKey().count() / reduce() / aggregate() keep a table per key and emit every update', async () => {
    const builder = new StreamsBuilder();
    const words = builder.stream('words', { key: str, value: str });
    const grouped = words.groupByKey();
    grouped.count({ name: 'counts' }).toStream().to('counts', { value: int });
    grouped.reduce((a, b) => `${a}+${b}`, { name: 'joined' }).toStream().to('joined');
    grouped
      .aggregate(() => [] as string[], (_k, v, agg) => [...agg, v.toUpperCase()], { name: 'lists' })
      .toStream()
      .to('lists', { value: Serdes.json<string[]>() });
    const d = start(builder.build());
    const input = d.createInputTopic('words', str, str);
    await input.pipeKeyValueList([
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
      { key: 'a', value: 'z' },
    ]);
    expect(d.createOutputTopic('counts', str, int).readKeyValuesToList()).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 1 },
      { key: 'a', value: 2 },
    ]);
    expect(d.createOutputTopic('joined', str, str).readKeyValuesToList()).toEqual([
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
      { key: 'a', value: 'x+z' },
    ]);
    expect(d.createOutputTopic('lists', str, Serdes.json<string[]>()).readValuesToList()).toEqual([['X'], ['Y'], ['X', 'Z']]);
    const counts = await d.getKeyValueStore<number>('counts');
    const entries: { key: string; value: number }[] = [];
    for await (const entry of counts.range()) entries.push({ key: entry.key, value: entry.value });
    expect(entries).toEqual([
      { key: 'a', value: 2 },
      { key: 'b', value: 1 },
    ]);
  });

  it('join and leftJoin look records up in a global table fed from its topic', async () => {
    const builder = new StreamsBuilder();
    const elections = builder.globalTable('elections', { key: str, value: Serdes.json<{ title: string }>(), storeName: 'elections' });
    const votes = builder.stream('votes', { key: str, value: str });
    votes.join(elections, (_voter, electionId) => electionId, (electionId, e) => `${electionId}:${e.title}`).to('inner', { value: str });
    votes.leftJoin(elections, (_voter, electionId) => electionId, (electionId, e) => `${electionId}:${e?.title ?? '?'}`).to('left', { value: str });
    const d = start(builder.build());
    const electionsIn = d.createInputTopic('elections', str, Serdes.nullable(Serdes.json<{ title: string }>()));
    const votesIn = d.createInputTopic('votes', str, str);
    await electionsIn.pipeInput('e1', { title: 'Mayor' });
    await votesIn.pipeInput('u1', 'e1');
    await votesIn.pipeInput('u2', 'e2');
    await electionsIn.pipeInput('e1', null);
    await votesIn.pipeInput('u3', 'e1');
    expect(d.createOutputTopic('inner', str, str).readKeyValuesToList()).toEqual([{ key: 'u1', value: 'e1:Mayor' }]);
    expect(d.createOutputTopic('left', str, str).readKeyValuesToList()).toEqual([
      { key: 'u1', value: 'e1:Mayor' },
      { key: 'u2', value: 'e2:?' },
      { key: 'u3', value: 'e1:?' },
    ]);
    expect(await (await d.getKeyValueStore('elections')).approximateCount()).toBe(0);
  });
});
