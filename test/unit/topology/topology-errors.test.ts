import { describe, expect, it } from 'vitest';
import type { Serde } from '../../../topology/serdes/serde.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';
import { TopologyError } from '../../../topology/topology-error.js';

const str = Serdes.string();

function failure(action: () => unknown): { name: string; code: string; message: string } {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    const { name, code, message } = error as TopologyError;
    return { name, code, message };
  }
  throw new Error('expected a TopologyError');
}

const topologyError = (message: string) => ({ name: 'TopologyError', code: 'TOPOLOGY', message });

describe('build-time validation', () => {
  it('rejects a processor that uses an unknown store', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).process(() => ({ process: () => undefined }), { name: 'p' }, 'nope');
    expect(failure(() => builder.build())).toEqual(
      topologyError('Processor "p" uses store "nope", which was never added (use StreamsBuilder.addStateStore)'),
    );
  });

  it('rejects dedupe on a store that was never added', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).dedupe({ key: (k) => k, store: 'voters', storeValue: () => 1, name: 'd' });
    expect(failure(() => builder.build())).toEqual(
      topologyError('Processor "d" uses store "voters", which was never added (use StreamsBuilder.addStateStore)'),
    );
  });

  it('rejects a local store used by two sub-topologies', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'shared' });
    builder.stream('a', { key: str, value: str }).process(() => ({ process: () => undefined }), 'shared');
    builder.stream('b', { key: str, value: str }).process(() => ({ process: () => undefined }), 'shared');
    expect(failure(() => builder.build())).toEqual(
      topologyError('Store "shared" is used by sub-topologies 0 and 1; a local store belongs to one sub-topology'),
    );
  });

  it('rejects a repartition whose value serde is unknown', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: str, value: str })
      .mapValues((v) => v.length)
      .groupBy((_k, v) => String(v))
      .count({ name: 'lengths' });
    expect(failure(() => builder.build())).toEqual(
      topologyError('Repartition topic "lengths-repartition" has no value serde: pass { value } to groupBy() or groupByKey()'),
    );
  });

  it('rejects a source without a serde (untyped callers)', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: undefined as unknown as Serde<string>, name: 'src' });
    expect(failure(() => builder.build())).toEqual(topologyError('Source "src" (topics: [in]) has no value serde'));
  });

  it('rejects a duplicate processor name', () => {
    const builder = new StreamsBuilder();
    const input = builder.stream('in', { key: str, value: str });
    input.filter(() => true, { name: 'same' }).to('a');
    input.mapValues((v) => v, { name: 'same' }).to('b', { value: str });
    expect(failure(() => builder.build())).toEqual(topologyError('Processor name "same" is used by more than one node'));
  });

  it('rejects a sink to a topic with no serde', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: str, value: str })
      .selectKey((_k, v) => v.length)
      .to('out', { name: 'out-sink' });
    expect(failure(() => builder.build())).toEqual(
      topologyError(
        'Sink "out-sink" to topic "out" has no key serde: pass { key } to to(); the stream\'s own serde is unknown after an operator that changes the key',
      ),
    );
  });

  it('rejects a store added twice', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 's' }).addStateStore({ name: 's' });
    expect(failure(() => builder.build())).toEqual(topologyError('Store "s" is added more than once'));
  });

  it('rejects a topic read by two sources of one sub-topology', () => {
    const builder = new StreamsBuilder();
    const one = builder.stream('in', { key: str, value: str, name: 'one' });
    const two = builder.stream('in', { key: str, value: str, name: 'two' });
    one.merge(two).to('out');
    expect(failure(() => builder.build())).toEqual(topologyError('Topic "in" is read by more than one source of sub-topology 0 (one, two)'));
  });

  it('lets two sub-topologies read one topic (each with its own progress)', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str, name: 'one' }).to('a');
    builder.stream('in', { key: str, value: str, name: 'two' }).to('b');
    expect(builder.build().subTopologies.map((s) => [s.id, s.sourceTopics])).toEqual([
      [0, ['in']],
      [1, ['in']],
    ]);
  });

  it('rejects a global topic that a stream also reads', () => {
    const builder = new StreamsBuilder();
    builder.stream('g', { key: str, value: str, name: 'one' }).to('out');
    builder.globalTable('g', { key: str, value: str, name: 'two' });
    expect(failure(() => builder.build())).toEqual(topologyError('Topic "g" is read by more than one source (one, two-source)'));
  });

  it('rejects malformed arguments at the call', () => {
    const builder = new StreamsBuilder();
    expect(failure(() => builder.stream('bad topic', { key: str, value: str }))).toEqual(
      topologyError('Invalid topic name "bad topic": use 1-249 of [a-zA-Z0-9._-]'),
    );
    const split = builder.stream('in', { key: str, value: str }).split({ name: 's' }).branch(() => true, 'a');
    expect(failure(() => split.branch(() => true, 'a'))).toEqual(topologyError('Branch "a" is defined twice in split "s"'));
  });
});
