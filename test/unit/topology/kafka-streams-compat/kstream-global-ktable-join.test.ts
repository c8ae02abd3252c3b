import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import type { TestInputTopic } from '../../../../runtime/test-topics.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';
import { kvt, MockProcessorSupplier } from './support.js';

/**
 * Mirrors Kafka Streams' KStreamGlobalKTableJoinTest and KStreamGlobalKTableLeftJoinTest: stream
 * values optionally carry the table key after a comma; the key mapper returns null without one.
 */

const streamTopic = 'streamTopic';
const globalTableTopic = 'globalTableTopic';
const expectedKeys = [0, 1, 2, 3];
const intKey = Serdes.nullable(Serdes.int32());
const nullableString = Serdes.nullable(Serdes.string());

function setUp(left: boolean) {
  let driver!: TopologyTestDriver;
  let inputStreamTopic!: TestInputTopic<number | null, string | null>;
  let inputTableTopic!: TestInputTopic<string, string | null>;
  let processor!: MockProcessorSupplier<number | null, string>;
  // Kafka's driver auto-advances the stream topic's timestamps from 0 by 1 ms, not the table's.
  let streamTime = 0;

  beforeEach(() => {
    const builder = new StreamsBuilder();
    const stream = builder.stream<number | null, string | null>(streamTopic, { key: intKey, value: nullableString });
    const table = builder.globalTable(globalTableTopic, { key: Serdes.string(), value: Serdes.string() });
    const keyMapper = (_key: number | null, value: string | null): string => {
      const tokens = (value ?? '').split(',');
      return (tokens.length > 1 ? tokens[1] : null) as string;
    };
    processor = new MockProcessorSupplier();
    const joiner = (value: string | null, tableValue: string | undefined): string => `${value}+${tableValue ?? null}`;
    (left ? stream.leftJoin(table, keyMapper, joiner) : stream.join(table, keyMapper, joiner)).process(processor.supplier);
    driver = new TopologyTestDriver(builder.build());
    inputStreamTopic = driver.createInputTopic(streamTopic, intKey, nullableString);
    inputTableTopic = driver.createInputTopic(globalTableTopic, Serdes.string(), nullableString);
    streamTime = 0;
  });
  afterEach(() => driver.close());

  const pushToStream = async (messageCount: number, valuePrefix: string, includeForeignKey: boolean, includeNullKey: boolean) => {
    for (let i = 0; i < messageCount; i++) {
      let value = `${valuePrefix}${expectedKeys[i]}`;
      if (includeForeignKey) value += `,FKey${expectedKeys[i]}`;
      const key = includeNullKey && i === 0 ? null : expectedKeys[i];
      await inputStreamTopic.pipeInput(key, value, streamTime++);
    }
  };
  const pushToGlobalTable = async (messageCount: number, valuePrefix: string) => {
    for (let i = 0; i < messageCount; i++) await inputTableTopic.pipeInput(`FKey${expectedKeys[i]}`, `${valuePrefix}${expectedKeys[i]}`);
  };
  const pushNullValueToGlobalTable = async (messageCount: number) => {
    for (let i = 0; i < messageCount; i++) await inputTableTopic.pipeInput(`FKey${expectedKeys[i]}`, null);
  };
  return {
    get driver() {
      return driver;
    },
    get processor() {
      return processor;
    },
    get inputStreamTopic() {
      return inputStreamTopic;
    },
    pushToStream,
    pushToGlobalTable,
    pushNullValueToGlobalTable,
  };
}

describe('KStreamGlobalKTableJoinTest', () => {
  const t = setUp(false);

  it('shouldNotJoinWithEmptyGlobalTableOnStreamUpdates', async () => {
    await t.pushToStream(2, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
  });

  it('shouldNotJoinOnGlobalTableUpdates', async () => {
    await t.pushToStream(2, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToGlobalTable(2, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(0, 'X0,FKey0+Y0', 2), kvt(1, 'X1,FKey1+Y1', 3)]);
    await t.pushToGlobalTable(4, 'YY');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'X0,FKey0+YY0', 6),
      kvt(1, 'X1,FKey1+YY1', 7),
      kvt(2, 'X2,FKey2+YY2', 8),
      kvt(3, 'X3,FKey3+YY3', 9),
    ]);
    await t.pushToGlobalTable(4, 'YYY');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
  });

  it('shouldJoinOnlyIfMatchFoundOnStreamUpdates', async () => {
    await t.pushToGlobalTable(2, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(0, 'X0,FKey0+Y0', 0), kvt(1, 'X1,FKey1+Y1', 1)]);
  });

  it('shouldClearGlobalTableEntryOnNullValueUpdates', async () => {
    await t.pushToGlobalTable(4, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'X0,FKey0+Y0', 0),
      kvt(1, 'X1,FKey1+Y1', 1),
      kvt(2, 'X2,FKey2+Y2', 2),
      kvt(3, 'X3,FKey3+Y3', 3),
    ]);
    await t.pushNullValueToGlobalTable(2);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'XX', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(2, 'XX2,FKey2+Y2', 6), kvt(3, 'XX3,FKey3+Y3', 7)]);
  });

  it('shouldNotJoinOnNullKeyMapperValues', async () => {
    await t.pushToGlobalTable(4, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'XXX', false, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    expect(t.driver.droppedRecordsTotal()).toBe(4);
  });

  it('shouldJoinOnNullKeyWithNonNullKeyMapperValues', async () => {
    await t.pushToGlobalTable(2, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, true);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(null, 'X0,FKey0+Y0', 0), kvt(1, 'X1,FKey1+Y1', 1)]);
  });

  // KStreamKTableJoinProcessor: "we also ignore the record if value is null".
  it('shouldNotJoinOnNullKeyMapperValues (null stream value)', async () => {
    await t.pushToGlobalTable(4, 'Y');
    await t.inputStreamTopic.pipeInput(0, null, 0);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    expect(t.driver.droppedRecordsTotal()).toBe(1);
  });
});

describe('KStreamGlobalKTableLeftJoinTest', () => {
  const t = setUp(true);

  it('shouldNotJoinWithEmptyGlobalTableOnStreamUpdates', async () => {
    await t.pushToStream(2, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(0, 'X0,FKey0+null', 0), kvt(1, 'X1,FKey1+null', 1)]);
  });

  it('shouldNotJoinOnGlobalTableUpdates', async () => {
    await t.pushToStream(2, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([kvt(0, 'X0,FKey0+null', 0), kvt(1, 'X1,FKey1+null', 1)]);
    await t.pushToGlobalTable(2, 'Y');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'X0,FKey0+Y0', 2),
      kvt(1, 'X1,FKey1+Y1', 3),
      kvt(2, 'X2,FKey2+null', 4),
      kvt(3, 'X3,FKey3+null', 5),
    ]);
    await t.pushToGlobalTable(4, 'YY');
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'X0,FKey0+YY0', 6),
      kvt(1, 'X1,FKey1+YY1', 7),
      kvt(2, 'X2,FKey2+YY2', 8),
      kvt(3, 'X3,FKey3+YY3', 9),
    ]);
  });

  it('shouldJoinRegardlessIfMatchFoundOnStreamUpdates', async () => {
    await t.pushToGlobalTable(2, 'Y');
    await t.pushToStream(4, 'X', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'X0,FKey0+Y0', 0),
      kvt(1, 'X1,FKey1+Y1', 1),
      kvt(2, 'X2,FKey2+null', 2),
      kvt(3, 'X3,FKey3+null', 3),
    ]);
  });

  it('shouldClearGlobalTableEntryOnNullValueUpdates', async () => {
    await t.pushToGlobalTable(4, 'Y');
    await t.pushToStream(4, 'X', true, false);
    t.processor.checkAndClearProcessResult();
    await t.pushNullValueToGlobalTable(2);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    await t.pushToStream(4, 'XX', true, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(0, 'XX0,FKey0+null', 4),
      kvt(1, 'XX1,FKey1+null', 5),
      kvt(2, 'XX2,FKey2+Y2', 6),
      kvt(3, 'XX3,FKey3+Y3', 7),
    ]);
  });

  it('shouldNotJoinOnNullKeyMapperValues', async () => {
    await t.pushToGlobalTable(4, 'Y');
    await t.pushToStream(4, 'XXX', false, false);
    expect(t.processor.checkAndClearProcessResult()).toEqual([]);
    expect(t.driver.droppedRecordsTotal()).toBe(4);
  });

  it('shouldJoinOnNullKeyWithNonNullKeyMapperValues', async () => {
    await t.pushToGlobalTable(4, 'Y');
    await t.pushToStream(4, 'X', true, true);
    expect(t.processor.checkAndClearProcessResult()).toEqual([
      kvt(null, 'X0,FKey0+Y0', 0),
      kvt(1, 'X1,FKey1+Y1', 1),
      kvt(2, 'X2,FKey2+Y2', 2),
      kvt(3, 'X3,FKey3+Y3', 3),
    ]);
  });
});
