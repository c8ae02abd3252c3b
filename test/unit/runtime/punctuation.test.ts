import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import type { Cancellable, ProcessorContext, PunctuationType } from '../../../topology/processor.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** A processor that emits `<type>@<time>` on each punctuation and cancels after `limit` of them. */
function punctuating(type: PunctuationType, intervalMs: number, limit = Infinity) {
  const builder = new StreamsBuilder();
  builder
    .stream('in', { key: str, value: str })
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>;
      let schedule: Cancellable;
      let fired = 0;
      return {
        init: (c) => {
          context = c;
          schedule = c.schedule(intervalMs, type, (time) => {
            if (++fired >= limit) schedule.cancel();
            return context.forward({ key: 'tick', value: `${type}@${time}`, timestamp: time, headers: {} });
          });
        },
        process: () => undefined,
      };
    })
    .to('ticks', { key: str, value: str });
  return builder.build();
}

describe('punctuation', () => {
  it('stream time: aligned to 0, fires on records, skips missed intervals', async () => {
    driver = new TopologyTestDriver(punctuating('stream-time', 1000));
    const input = driver.createInputTopic('in', str, str);
    const ticks = driver.createOutputTopic('ticks', str, str);
    for (const ts of [0, 500, 999, 1000, 1500, 3500, 3999, 4000]) await input.pipeInput('k', 'v', ts);
    // An out-of-order record does not move stream time back.
    await input.pipeInput('k', 'v', 100);
    expect(ticks.readValuesToList()).toEqual(['stream-time@0', 'stream-time@1000', 'stream-time@3500', 'stream-time@4000']);
  });

  it('stream time does not move with the wall clock', async () => {
    driver = new TopologyTestDriver(punctuating('stream-time', 10));
    await driver.advanceWallClockTime(1_000_000);
    expect(driver.createOutputTopic('ticks', str, str).isEmpty()).toBe(true);
  });

  it('wall clock: first after one interval from start, driven by advanceWallClockTime', async () => {
    driver = new TopologyTestDriver(punctuating('wall-clock', 100), { startWallClockMs: 1000 });
    const ticks = driver.createOutputTopic('ticks', str, str);
    await driver.advanceWallClockTime(99);
    expect(ticks.readValuesToList()).toEqual([]);
    await driver.advanceWallClockTime(1);
    expect(ticks.readRecordsToList()).toEqual([
      { key: 'tick', value: 'wall-clock@1100', timestamp: 1100, headers: {}, partition: 0 },
    ]);
    await driver.advanceWallClockTime(350);
    await driver.advanceWallClockTime(50);
    expect(ticks.readValuesToList()).toEqual(['wall-clock@1450', 'wall-clock@1500']);
    // Records do not fire wall-clock punctuations.
    await driver.createInputTopic('in', str, str).pipeInput('k', 'v', 99999);
    expect(ticks.isEmpty()).toBe(true);
  });

  it('a cancelled punctuation stops firing', async () => {
    driver = new TopologyTestDriver(punctuating('wall-clock', 10, 2));
    for (let i = 0; i < 5; i++) await driver.advanceWallClockTime(10);
    expect(driver.createOutputTopic('ticks', str, str).readValuesToList()).toEqual(['wall-clock@10', 'wall-clock@20']);
  });

  it('punctuators see no record metadata', async () => {
    const metadata: unknown[] = [];
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).process(() => ({
      init: (c) => void c.schedule(5, 'wall-clock', () => void metadata.push(c.recordMetadata())),
      process: () => undefined,
    }));
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('in', str, str).pipeInput('k', 'v');
    await driver.advanceWallClockTime(5);
    expect(metadata).toEqual([undefined]);
  });
});
