import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { SinkSupplier } from '../../../sinks/sink.js';
import type { KeyValueStore } from '../../../statestores/key-value-store.js';
import type { GlobalKTable } from '../../../topology/global-ktable.js';
import type { KGroupedStream } from '../../../topology/kgrouped-stream.js';
import type { KStream } from '../../../topology/kstream.js';
import type { KTable } from '../../../topology/ktable.js';
import type { Processor, ProcessorContext } from '../../../topology/processor.js';
import type { StreamRecord } from '../../../topology/record.js';
import type { Serde } from '../../../topology/serdes/serde.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const Vote = z.object({ voteId: z.string(), candidateId: z.string(), region: z.string().optional() });
type Vote = z.infer<typeof Vote>;

type Valid = { ok: true; vote: Vote };
type Invalid = { ok: false; reason: string };

const builder = new StreamsBuilder();
const votes = builder.stream('votes', { key: Serdes.string(), value: Serdes.json(Vote) });

describe('DSL types follow the data', () => {
  it('serdes carry their type', () => {
    expectTypeOf(Serdes.json(Vote)).toEqualTypeOf<Serde<Vote>>();
    expectTypeOf(Serdes.int64()).toEqualTypeOf<Serde<bigint>>();
    expectTypeOf(Serdes.nullable(Serdes.string())).toEqualTypeOf<Serde<string | null>>();
    expectTypeOf(votes).toEqualTypeOf<KStream<string, Vote>>();
  });

  it('mapValues changes V, selectKey changes K, map changes both', () => {
    expectTypeOf(votes.mapValues((v) => v.candidateId.length)).toEqualTypeOf<KStream<string, number>>();
    expectTypeOf(votes.selectKey((_k, v) => v.candidateId.length)).toEqualTypeOf<KStream<number, Vote>>();
    expectTypeOf(votes.map((k, v) => ({ key: v.voteId, value: [k] }))).toEqualTypeOf<KStream<string, string[]>>();
    expectTypeOf(votes.flatMapValues((v) => [v.voteId])).toEqualTypeOf<KStream<string, string>>();
    expectTypeOf(votes.flatMap((_k, v) => [{ key: 1, value: v }])).toEqualTypeOf<KStream<number, Vote>>();
  });

  it('type guards narrow filter and split branches', () => {
    const checked = votes.mapValues((vote): Valid | Invalid => ({ ok: true, vote }));
    expectTypeOf(checked.filter((_k, v): v is Valid => v.ok)).toEqualTypeOf<KStream<string, Valid>>();
    expectTypeOf(checked.filterNot((_k, v): v is Valid => v.ok)).toEqualTypeOf<KStream<string, Invalid>>();
    const branches = checked
      .split()
      .branch((_k, v): v is Valid => v.ok, 'valid')
      // TypeScript infers this arrow as a `v is Invalid` predicate too.
      .branch((_k, v) => v.ok === false, 'invalid')
      .branch((k) => k.length > 0, 'keyed')
      .defaultBranch('rest');
    expectTypeOf(branches).toEqualTypeOf<{
      valid: KStream<string, Valid>;
      invalid: KStream<string, Invalid>;
      keyed: KStream<string, Valid | Invalid>;
      rest: KStream<string, Valid | Invalid>;
    }>();
    // @ts-expect-error no such branch
    void branches.other;
  });

  it('dedupe returns both outcomes with the input types', () => {
    const { accepted, duplicates } = votes.dedupe({ key: (k) => k, store: 'voters', storeValue: (_k, v) => v.voteId });
    expectTypeOf(accepted).toEqualTypeOf<KStream<string, Vote>>();
    expectTypeOf(duplicates).toEqualTypeOf<KStream<string, Vote>>();
  });

  it('grouping and aggregation types', () => {
    expectTypeOf(votes.groupByKey()).toEqualTypeOf<KGroupedStream<string, Vote>>();
    const byCandidate = votes.groupBy((_k, v) => v.candidateId);
    expectTypeOf(byCandidate.count()).toEqualTypeOf<KTable<string, number>>();
    expectTypeOf(byCandidate.count().toStream()).toEqualTypeOf<KStream<string, number>>();
    expectTypeOf(byCandidate.aggregate(() => new Set<string>(), (_k, v, s) => s.add(v.voteId))).toEqualTypeOf<
      KTable<string, Set<string>>
    >();
    expectTypeOf(byCandidate.reduce((a) => a)).toEqualTypeOf<KTable<string, Vote>>();
  });

  it('global table joins produce the joiner type', () => {
    const elections = builder.globalTable('elections', { key: Serdes.string(), value: Serdes.json<{ closesAt: number }>() });
    expectTypeOf(elections).toEqualTypeOf<GlobalKTable<string, { closesAt: number }>>();
    expectTypeOf(votes.join(elections, (_k, v) => v.voteId, (v, e) => e.closesAt > 0 && v.voteId)).toEqualTypeOf<
      KStream<string, string | false>
    >();
    votes.leftJoin(elections, (_k, v) => v.voteId, (_v, e) => {
      expectTypeOf(e).toEqualTypeOf<{ closesAt: number } | undefined>();
      return 0;
    });
  });

  it('process takes its output types from the processor', () => {
    class Tagger implements Processor<string, Vote, string, number> {
      private context!: ProcessorContext<string, number>;
      init(context: ProcessorContext<string, number>): void {
        this.context = context;
        expectTypeOf(context.getStateStore<string>('s')).toEqualTypeOf<KeyValueStore<string>>();
      }
      process(record: StreamRecord<string, Vote>): void | Promise<void> {
        return this.context.forward({ ...record, value: record.value.voteId.length });
      }
    }
    expectTypeOf(votes.process(() => new Tagger(), 's')).toEqualTypeOf<KStream<string, number>>();
  });
});

describe('mis-typed topologies do not compile', () => {
  it('rejects wrong serdes, callbacks and stream combinations', () => {
    const lengths = votes.mapValues((v) => v.voteId.length);
    // @ts-expect-error a string serde for number values
    lengths.to('out', { value: Serdes.string() });
    // @ts-expect-error a Vote serde for a number-keyed stream
    votes.selectKey(() => 1).to('out', { key: Serdes.string() });
    // @ts-expect-error values are Votes, not strings
    votes.filter((_k, v) => v.startsWith('x'));
    // @ts-expect-error merging streams of different value types
    votes.merge(lengths);
    // @ts-expect-error a sink for other types
    votes.to({ name: 'n', create: () => null } as unknown as SinkSupplier<string, number>);
    // @ts-expect-error store keys are strings: groupByKey needs a string key
    votes.selectKey((_k, v) => v.voteId.length).groupByKey();
    // @ts-expect-error groupBy must select a string key
    votes.groupBy((_k, v) => v.voteId.length);
    // @ts-expect-error the processor expects number values
    votes.process((): Processor<string, number> => ({ process: () => undefined }));
    // @ts-expect-error forwarding a value of the wrong type
    votes.process((): Processor<string, Vote, string, number> => ({ init: (c) => void c.forward({ key: 'k', value: 'x', timestamp: 0, headers: {} }), process: () => undefined }));
    // @ts-expect-error the stream's serdes type the source
    builder.stream('t', { key: Serdes.string(), value: Serdes.int32() }).mapValues((v: string) => v);
    // @ts-expect-error dedupe identities are strings
    votes.dedupe({ key: (_k, v) => v.voteId.length, store: 's', storeValue: () => 1 });
    // @ts-expect-error global table keys are strings
    builder.globalTable('t', { key: Serdes.int32(), value: Serdes.string() });
    // @ts-expect-error the joiner sees the table's value type
    votes.join(builder.globalTable('g', { key: Serdes.string(), value: Serdes.int32() }), (k) => k, (_v, e: string) => e);
  });
});
