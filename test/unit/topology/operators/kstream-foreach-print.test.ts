import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../../topology/streams-builder.js';

// Mirrors Kafka Streams' KStreamForeachTest, KStreamPrintTest and PrintedTest.
const str = Serdes.string();
const int = Serdes.int32();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function lines(): { to: { write(text: string): void }; text: string[] } {
  const text: string[] = [];
  return { to: { write: (t: string) => void text.push(t) }, text };
}

describe('KStreamForeachTest', () => {
  it('testForeach: the action sees every record; nothing is forwarded', async () => {
    const builder = new StreamsBuilder();
    const actual: [number, string][] = [];
    builder.stream('topic', { key: int, value: str }).foreach((k, v) => actual.push([k * 2, v.toUpperCase()]));
    const topology = builder.build();
    expect(topology.subTopologies[0].nodes.map((n) => [n.name, n.kind === 'processor' ? n.children : []])).toEqual([
      ['KSTREAM-SOURCE-0000000000', []],
      ['KSTREAM-FOREACH-0000000001', []],
    ]);
    driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('topic', int, str);
    for (const [k, v] of [[0, 'zero'], [1, 'one'], [2, 'two'], [3, 'three']] as const) await input.pipeInput(k, v);
    expect(actual).toEqual([
      [0, 'ZERO'],
      [2, 'ONE'],
      [4, 'TWO'],
      [6, 'THREE'],
    ]);
  });

  it('takes a name', () => {
    const builder = new StreamsBuilder();
    builder.stream('topic', { key: int, value: str }).foreach(() => undefined, { name: 'each' });
    expect(builder.build().subTopologies[0].nodes.map((n) => n.name)).toEqual(['KSTREAM-SOURCE-0000000000', 'each']);
  });
});

describe('KStreamPrintTest / PrintedTest', () => {
  it('shouldCreateProcessorThatPrintsToStdOut: `[<processor name>]: key, value` by default', async () => {
    const builder = new StreamsBuilder();
    const out = lines();
    builder.stream('topic', { key: str, value: int }).print({ to: out.to });
    const topology = builder.build();
    expect(topology.subTopologies[0].nodes.map((n) => n.name)).toEqual(['KSTREAM-SOURCE-0000000000', 'KSTREAM-PRINTER-0000000001']);
    driver = new TopologyTestDriver(topology);
    await driver.createInputTopic('topic', str, int).pipeInput('good', 2);
    expect(out.text).toEqual(['[KSTREAM-PRINTER-0000000001]: good, 2\n']);
  });

  it('shouldPrintWithLabel', async () => {
    const builder = new StreamsBuilder();
    const out = lines();
    builder.stream('topic', { key: str, value: int }).print({ to: out.to, label: 'label' });
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('topic', str, int).pipeInput('hello', 3);
    expect(out.text).toEqual(['[label]: hello, 3\n']);
  });

  it('testPrintStreamWithProvidedKeyValueMapper', async () => {
    const builder = new StreamsBuilder();
    const out = lines();
    builder.stream('topic', { key: int, value: str }).print({ to: out.to, label: 'test-stream', mapper: (k, v) => `(${k}, ${v})` });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic', int, str);
    for (const [k, v] of [[0, 'zero'], [1, 'one'], [2, 'two'], [3, 'three']] as const) await input.pipeInput(k, v);
    expect(out.text.join('')).toBe('[test-stream]: (0, zero)\n[test-stream]: (1, one)\n[test-stream]: (2, two)\n[test-stream]: (3, three)\n');
  });

  it('prints objects as JSON and null as null; to a logger through info()', async () => {
    const builder = new StreamsBuilder();
    const logged: string[] = [];
    builder
      .stream('topic', { key: str, value: Serdes.nullable(Serdes.json<{ page: string }>()) })
      .print({ logger: { info: (line: string) => void logged.push(line) }, label: 'clicks', name: 'printer' });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic', str, Serdes.nullable(Serdes.json<{ page: string }>()));
    await input.pipeInput('ana', { page: '/a' });
    await input.pipeInput('bob', null);
    expect(logged).toEqual(['[clicks]: ana, {"page":"/a"}', '[clicks]: bob, null']);
  });
});
