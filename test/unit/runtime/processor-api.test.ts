import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import type { Processor, ProcessorContext } from '../../../topology/processor.js';
import type { StreamRecord } from '../../../topology/record.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('Processor API', () => {
  it('gives the context: ids, record metadata, headers and timestamp of the record', async () => {
    const seen: unknown[] = [];
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).process<string, string>(() => {
      let context: ProcessorContext<string, string>;
      return {
        init: (c) => {
          context = c;
        },
        process: (record) => {
          seen.push({
            applicationId: context.applicationId,
            taskId: context.taskId,
            partition: context.partition,
            metadata: context.recordMetadata(),
            timestamp: record.timestamp,
            headers: record.headers,
            streamTime: context.currentStreamTimeMs(),
            wallClock: context.currentSystemTimeMs(),
          });
        },
      };
    });
    driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', partitions: 12, startWallClockMs: 500 });
    const input = driver.createInputTopic('in', str, str);
    await input.pipeInput('a', 'x', 1000, { h: Buffer.from('1') });
    await input.pipeInput('a', 'y', 900);
    expect(seen).toEqual([
      {
        applicationId: 'app',
        taskId: '0_4',
        partition: 4,
        metadata: { topic: 'in', partition: 4, offset: 0 },
        timestamp: 1000,
        headers: { h: Buffer.from('1') },
        streamTime: 1000,
        wallClock: 500,
      },
      {
        applicationId: 'app',
        taskId: '0_4',
        partition: 4,
        metadata: { topic: 'in', partition: 4, offset: 1 },
        timestamp: 900,
        headers: {},
        streamTime: 1000,
        wallClock: 500,
      },
    ]);
  });

  it('forwards to a named child only, or to all children', async () => {
    const builder = new StreamsBuilder();
    const routed = builder.stream('in', { key: str, value: str }).process<string, string>(
      () => {
        let context: ProcessorContext<string, string>;
        return {
          init: (c) => {
            context = c;
          },
          process: (record) => {
            if (record.value === 'all') return context.forward(record);
            return context.forward(record, record.value === 'left' ? 'to-left' : 'to-right');
          },
        };
      },
      { name: 'router' },
    );
    routed.peek(() => undefined, { name: 'to-left' }).to('left', { key: str, value: str });
    routed.peek(() => undefined, { name: 'to-right' }).to('right', { key: str, value: str });
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('in', str, str).pipeKeyValueList([
      { key: '1', value: 'left' },
      { key: '2', value: 'right' },
      { key: '3', value: 'all' },
    ]);
    expect(driver.createOutputTopic('left', str, str).readKeyValuesToList()).toEqual([
      { key: '1', value: 'left' },
      { key: '3', value: 'all' },
    ]);
    expect(driver.createOutputTopic('right', str, str).readKeyValuesToList()).toEqual([
      { key: '2', value: 'right' },
      { key: '3', value: 'all' },
    ]);
  });

  it('fails the record when forwarding to an unknown child', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).process<string, string>(
      () => {
        let context: ProcessorContext<string, string>;
        return { init: (c) => void (context = c), process: (r) => context.forward(r, 'ghost') };
      },
      { name: 'p' },
    );
    driver = new TopologyTestDriver(builder.build());
    await expect(driver.createInputTopic('in', str, str).pipeInput('k', 'v')).rejects.toThrow(
      'Processor "p" has no child named "ghost"',
    );
  });

  it('refuses a store the processor was not connected to', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'mine' });
    const input = builder.stream('in', { key: str, value: str });
    input.process(() => ({ process: () => undefined }), 'mine');
    input.process(() => ({ init: (c) => void c.getStateStore('mine'), process: () => undefined }), { name: 'thief' });
    driver = new TopologyTestDriver(builder.build());
    await expect(driver.createInputTopic('in', str, str).pipeInput('k', 'v')).rejects.toThrow(
      'Processor "thief" is not connected to store "mine": list it in process(supplier, "mine")',
    );
  });

  it('keeps records in forward order through asynchronous children, awaited or not', async () => {
    class Slow implements Processor<string, string, string, string> {
      private context!: ProcessorContext<string, string>;
      init(context: ProcessorContext<string, string>): void {
        this.context = context;
      }
      async process(record: StreamRecord<string, string>): Promise<void> {
        // Later records wait less: only the chaining keeps them in order.
        await new Promise((resolve) => setTimeout(resolve, record.value.length));
        void this.context.forward(record);
      }
    }
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: str, value: str })
      .flatMapValues((v) => [v.repeat(3), v.repeat(2), v])
      .process(() => new Slow())
      .to('out', { key: str, value: str });
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('in', str, str).pipeInput('k', 'ab');
    expect(driver.createOutputTopic('out', str, str).readValuesToList()).toEqual(['ababab', 'abab', 'ab']);
  });

  it('calls init once per task and close on driver close', async () => {
    const events: string[] = [];
    const builder = new StreamsBuilder();
    builder.stream('in', { key: str, value: str }).process(() => ({
      init: (c) => void events.push(`init ${c.taskId}`),
      process: () => undefined,
      close: () => void events.push('close'),
    }));
    driver = new TopologyTestDriver(builder.build(), { partitions: 2 });
    await driver.close();
    expect(events).toEqual(['init 0_0', 'init 0_1', 'close', 'close']);
  });
});
