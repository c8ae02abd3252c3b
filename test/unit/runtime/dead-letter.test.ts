import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TopologyTestDriver } from '../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import type { DeserializationErrorPolicy } from '../../../topology/options.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';

const str = Serdes.string();
const bytes = Serdes.bytes();
const Vote = z.object({ voteId: z.string() });

/** The engine's own JSON.parse message, which the serde quotes. */
function jsonParseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parses`);
}

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function votes(onDeserializationError?: DeserializationErrorPolicy, deadLetterTopic?: string) {
  const builder = new StreamsBuilder();
  builder
    .stream('votes', { key: str, value: Serdes.json(Vote), onDeserializationError, deadLetterTopic })
    .mapValues((v) => v.voteId)
    .to('ok', { value: str });
  return builder.build();
}

describe('records that cannot be deserialized', () => {
  it('go to <topic>-dlq by default, original bytes and key, with error and source headers', async () => {
    driver = new TopologyTestDriver(votes(), { partitions: 12 });
    const raw = driver.createInputTopic('votes', str, bytes);
    await raw.pipeInput('u42', Buffer.from('{"voteId":"v1"}'), 10);
    await raw.pipeInput('u42', Buffer.from('not json'), 20, { trace: Buffer.from('t') });
    await raw.pipeInput('u42', Buffer.from('{"voteId":7}'), 30);
    await raw.pipeInput('u42', Buffer.from('{"voteId":"v2"}'), 40);
    expect(driver.createOutputTopic('ok', str, str).readValuesToList()).toEqual(['v1', 'v2']);
    const dlq = driver.createOutputTopic('votes-dlq', bytes, bytes).readRecordsToList();
    expect(dlq.map((r) => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()])) }))).toEqual([
      {
        key: Buffer.from('u42'),
        value: Buffer.from('not json'),
        timestamp: 20,
        partition: 11,
        headers: {
          trace: 't',
          error: `invalid JSON on topic "votes": ${jsonParseError('not json')}`,
          'source-topic': 'votes',
          'source-partition': '11',
          'source-offset': '1',
        },
      },
      {
        key: Buffer.from('u42'),
        value: Buffer.from('{"voteId":7}'),
        timestamp: 30,
        partition: 11,
        headers: {
          error: dlq[1].headers.error.toString(),
          'source-topic': 'votes',
          'source-partition': '11',
          'source-offset': '2',
        },
      },
    ]);
    expect(dlq[1].headers.error.toString()).toMatch(/^JSON on topic "votes" failed validation: /);
  });

  it('go to the configured dead-letter topic', async () => {
    driver = new TopologyTestDriver(votes('dead-letter', 'votes-quarantine'));
    await driver.createInputTopic('votes', str, bytes).pipeInput('u1', Buffer.from('{'));
    expect(driver.createOutputTopic('votes-quarantine', str, bytes).readKeyValuesToList()).toEqual([
      { key: 'u1', value: Buffer.from('{') },
    ]);
    expect(driver.createOutputTopic('votes-dlq', str, bytes).isEmpty()).toBe(true);
  });

  it('are skipped under skip-and-log', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    driver = new TopologyTestDriver(votes('skip-and-log'), { logger });
    const raw = driver.createInputTopic('votes', str, bytes);
    await raw.pipeInput('u1', Buffer.from('{'));
    await raw.pipeInput('u1', Buffer.from('{"voteId":"v9"}'));
    expect(driver.createOutputTopic('ok', str, str).readValuesToList()).toEqual(['v9']);
    expect(driver.createOutputTopic('votes-dlq', str, bytes).isEmpty()).toBe(true);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).map(({ msg, topic, partition, offset, task }) => ({ msg, topic, partition, offset, task }))).toEqual([
      { msg: 'skipped a record that cannot be deserialized', topic: 'votes', partition: 0, offset: 0, task: '0_0' },
    ]);
  });

  it('stop the task with a DeserializationError under fail', async () => {
    driver = new TopologyTestDriver(votes('fail'));
    const error = (await driver
      .createInputTopic('votes', str, bytes)
      .pipeInput('u1', Buffer.from('{'))
      .then(
        () => new Error('no error'),
        (e: unknown) => e,
      )) as Error & { code: string };
    expect({ name: error.name, code: error.code, message: error.message }).toEqual({
      name: 'DeserializationError',
      code: 'DESERIALIZATION',
      message: `Cannot deserialize record votes-0@0: invalid JSON on topic "votes": ${jsonParseError('{')}`,
    });
  });
});
