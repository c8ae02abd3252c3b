import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver } from '../../index.js';

/** The README's DSL example, run as written: if it stops compiling or working, this fails. */
describe('README DSL example', () => {
  interface Click {
    user: string;
    page: string;
  }

  it('dedupes first visits, routes repeats, and counts visits per page', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore<string>({ name: 'seen', valueSerde: Serdes.string() });
    const clicks = builder.stream('clicks', { key: Serdes.string(), value: Serdes.json<Click>() });
    const { accepted, duplicates } = clicks
      .filter((_user, click) => click.page !== '')
      .dedupe({ key: (user, click) => `${user}:${click.page}`, store: 'seen', storeValue: (_u, c) => c.page });
    accepted.mapValues((click) => click.page).to('first-visits', { value: Serdes.string() });
    duplicates.to('repeat-visits');
    accepted
      .groupBy((_user, click) => click.page)
      .count({ name: 'visits-per-page' })
      .toStream()
      .to('page-counts', { value: Serdes.int32() });
    const topology = builder.build();
    expect(topology.describe().toString()).toContain('Sub-topology: 1');

    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('clicks', Serdes.string(), Serdes.json<Click>());
    await input.pipeInput('ana', { user: 'ana', page: '/a' });
    await input.pipeInput('bo', { user: 'bo', page: '/a' });
    await input.pipeInput('ana', { user: 'ana', page: '/a' });
    await input.pipeInput('ana', { user: 'ana', page: '' });
    expect(driver.createOutputTopic('first-visits', Serdes.string(), Serdes.string()).readKeyValuesToList()).toEqual([
      { key: 'ana', value: '/a' },
      { key: 'bo', value: '/a' },
    ]);
    expect(driver.createOutputTopic('repeat-visits', Serdes.string(), Serdes.json<Click>()).readKeyValuesToList()).toEqual([
      { key: 'ana', value: { user: 'ana', page: '/a' } },
    ]);
    expect(driver.createOutputTopic('page-counts', Serdes.string(), Serdes.int32()).readKeyValuesToList()).toEqual([
      { key: '/a', value: 1 },
      { key: '/a', value: 2 },
    ]);
    await driver.close();
  });
});
