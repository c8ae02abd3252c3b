import { describe, expectTypeOf, it } from 'vitest';
import type { KStream } from '../../../../topology/kstream.js';
import type { KTable } from '../../../../topology/ktable.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

interface User {
  country: string;
  active: boolean;
}

describe('types of the tables, joins and terminal operators', () => {
  const builder = new StreamsBuilder();
  const users = builder.table('users', { key: Serdes.string(), value: Serdes.json<User>() });
  const clicks = builder.stream('clicks', { key: Serdes.string(), value: Serdes.string() });

  it('a table read from a topic can delete: its stream carries null', () => {
    expectTypeOf(users).toEqualTypeOf<KTable<string, User, null>>();
    expectTypeOf(users.toStream()).toEqualTypeOf<KStream<string, User | null>>();
    expectTypeOf(users.filter((_k, u) => u.active)).toEqualTypeOf<KTable<string, User, null>>();
    expectTypeOf(users.mapValues((u) => u.country).toStream()).toEqualTypeOf<KStream<string, string | null>>();
  });

  it('an aggregation cannot: its stream does not', () => {
    const counts = clicks.groupByKey().count();
    expectTypeOf(counts.mapValues((n) => n * 2).toStream()).toEqualTypeOf<KStream<string, number>>();
  });

  it('join gives the table value, leftJoin it or null', () => {
    expectTypeOf(clicks.join(users, (page, user) => `${page}@${user.country}`)).toEqualTypeOf<KStream<string, string>>();
    clicks.leftJoin(users, (_page, user) => {
      expectTypeOf(user).toEqualTypeOf<User | null>();
      return 0;
    });
    // A table's key must be the stream's.
    const byNumber = builder.stream('n', { key: Serdes.int32(), value: Serdes.string() });
    // @ts-expect-error numbers are not the table's string keys
    byNumber.join(users, (v) => v);
  });

  it('foreach, print and to(extractor) are terminal; repartition keeps the types', () => {
    expectTypeOf(clicks.foreach(() => undefined)).toEqualTypeOf<void>();
    expectTypeOf(clicks.print()).toEqualTypeOf<void>();
    expectTypeOf(clicks.to((key, value, context) => `${context.topic ?? 'none'}-${key}-${value}`)).toEqualTypeOf<void>();
    expectTypeOf(clicks.repartition({ numberOfPartitions: 2 })).toEqualTypeOf<KStream<string, string>>();
  });
});
