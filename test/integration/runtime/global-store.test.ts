import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/logger.js';
import { StreamsApp } from '../../../runtime/streams-app.js';
import type { KeyValueStore } from '../../../statestores/key-value-store.js';
import { hasCompleteness } from '../../../topology/global-store-completeness.js';
import type { Processor, ProcessorContext } from '../../../topology/processor.js';
import type { StreamRecord } from '../../../topology/record.js';
import { SerdeError, type Serde } from '../../../topology/serdes/serde.js';
import { Serdes } from '../../../topology/serdes/serdes.js';
import { StreamsBuilder } from '../../../topology/streams-builder.js';
import { produce, readAll, TEST_DRIVER, testDriver } from '../../support/kafka-io.js';
import { services, uniquePrefix } from '../../support/services.js';

/** Reference values are digits; anything else does not decode. */
const digits: Serde<number> = {
  serialize: (_t, v) => Buffer.from(String(v)),
  deserialize: (topic, data) => {
    const text = (data ?? Buffer.alloc(0)).toString();
    if (!/^\d+$/.test(text)) throw new SerdeError(`not digits on ${topic}: ${text}`);
    return Number(text);
  },
};

/** Looks its key up in the reference table once the table is complete up to the record's timestamp. */
class LookUpWhenComplete implements Processor<string, string, string, string> {
  #context!: ProcessorContext<string, string>;
  #table!: KeyValueStore<number>;
  init(context: ProcessorContext<string, string>): void {
    this.#context = context;
    this.#table = context.getStateStore<number>('ref');
  }
  async process(record: StreamRecord<string, string>): Promise<void> {
    if (hasCompleteness(this.#table)) await this.#table.waitUntilCompleteUpTo(record.timestamp);
    const value = await this.#table.get(record.key);
    return this.#context.forward({ ...record, value: `${record.value}/${value ?? 'none'}` });
  }
}

describe('global stores on the real broker', () => {
  it('while following, skip and count a record they cannot decode, even under the fail policy, and apply the records after it in the same batch (fault 6)', async () => {
    const { brokers } = services();
    const p = uniquePrefix('global');
    const [ref, input, output] = [`${p}ref`, `${p}in`, `${p}out`];
    const driver = testDriver(brokers);
    const admin = driver.createAdmin();
    await admin.ensureTopics([ref, input, output].map((name) => ({ name, partitions: 1, replicationFactor: 1, configs: {} })));
    await admin.close();
    await produce(driver, [{ topic: ref, key: Buffer.from('a'), value: Buffer.from('1') }]);

    const builder = new StreamsBuilder();
    // The default policy, `fail`: it may stop the first load, but once following, stopping would freeze every later update.
    builder.globalTable(ref, { key: Serdes.string(), value: digits, storeName: 'ref' });
    builder.stream(input, { key: Serdes.string(), value: Serdes.string() }).process(() => new LookUpWhenComplete(), { name: 'look-up' }, 'ref').to(output, { key: Serdes.string(), value: Serdes.string() });
    const stateDir = mkdtempSync(join(tmpdir(), 'vs-global-'));
    const app = new StreamsApp(builder.build(), { applicationId: `${p}app`, brokers, stateDir, commitIntervalMs: 100, driver: TEST_DRIVER }, { logger: createLogger({ level: 'error' }) });
    try {
      await app.start();
      const skipped = async () => (await app.registry.getSingleMetric('votestream_global_records_skipped_total')!.get()).values.map((v) => [v.labels.store, v.labels.reason, v.value]);
      expect(await skipped()).toEqual([]);

      // One produce request, so one fetched batch while following: a bad record, then two good ones.
      await produce(driver, [
        { topic: ref, key: Buffer.from('b'), value: Buffer.from('x') },
        { topic: ref, key: Buffer.from('b'), value: Buffer.from('2') },
        { topic: ref, key: Buffer.from('c'), value: Buffer.from('3') },
      ]);
      // Stamped after the reference records were acknowledged: each look-up sees them.
      const at = Date.now();
      await produce(driver, ['a', 'b', 'c', 'd'].map((k) => ({ topic: input, key: Buffer.from(k), value: Buffer.from(k.toUpperCase()), timestamp: at })));
      const out = await readAll(driver, output, 4);
      expect(out.map((r) => `${r.key}=${r.value}`)).toEqual(['a=A/1', 'b=B/2', 'c=C/3', 'd=D/none']);
      // The look-ups waited for the table to be complete past the bad record, so its skip is counted.
      expect(await skipped()).toEqual([['ref', 'undecodable', 1]]);
    } finally {
      await app.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
