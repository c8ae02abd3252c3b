/** The idempotent, non-transactional producer over a FakeCluster: records are visible as soon as send resolves. */
import type { ProduceResult, Producer, ProducerRecord } from '../driver.js';
import { FakeClient } from './fake-client.js';

/** Use FakeKafkaDriver.createProducer. */
export class FakeProducer extends FakeClient implements Producer {
  async send(records: readonly ProducerRecord[]): Promise<ProduceResult> {
    await this.enter('produce');
    return this.cluster.append(records, this.clientId, null);
  }
}
