/**
 * The producer's watchdog: a send that never settles (seen after a whole-cluster outage on three
 * brokers in `votestream chaos`) must not stall every later send behind it. Driven by a client
 * double, since a real broker cannot be made to leave a produce request unanswered on purpose.
 */
import { describe, expect, it } from 'vitest';
import { KafkaDriverError } from '../../../../runtime/kafka/errors.js';
import { PlatformaticProducer, type ProduceClient } from '../../../../runtime/kafka/platformatic/producer.js';

interface Double {
  readonly sends: unknown[];
  closed: boolean;
}

function doubles(behaviours: Array<'hang' | 'ok'>): { made: Double[]; create: () => ProduceClient } {
  const made: Double[] = [];
  return {
    made,
    create: () => {
      const behaviour = behaviours[made.length];
      const d: Double = { sends: [], closed: false };
      made.push(d);
      const client = {
        send: (request: unknown) => {
          d.sends.push(request);
          return behaviour === 'hang' ? new Promise(() => undefined) : Promise.resolve({ offsets: [{ topic: 't', partition: 0, offset: BigInt(d.sends.length - 1) }] });
        },
        close: (_force: boolean, callback?: (error?: Error) => void) => {
          d.closed = true;
          callback?.();
        },
        metadata: () => Promise.reject(new KafkaDriverError('no metadata in this test')),
      };
      return client as unknown as ProduceClient;
    },
  };
}

const record = (n: number) => ({ topic: 't', key: null, value: Buffer.from(`v${n}`) });

describe('PlatformaticProducer watchdog', () => {
  it('rejects a send that never settles, replaces the client, and the next send goes through the new one', async () => {
    const { made, create } = doubles(['hang', 'ok']);
    const producer = new PlatformaticProducer(['127.0.0.1:1'], 'test', { sendTimeoutMs: 50, createClient: create });
    const first = producer.send([record(1)]);
    const second = producer.send([record(2)]);
    await expect(first).rejects.toThrow(/did not settle within 50 ms; the producer is replaced/);
    await expect(second).resolves.toEqual({ offsets: [{ topic: 't', partition: 0, offset: 0n }] });
    expect(made).toHaveLength(2);
    expect(made[0].closed).toBe(true);
    expect(made[0].sends).toHaveLength(1);
    expect(made[1].sends).toHaveLength(1);
    expect(made[1].closed).toBe(false);
    await producer.close();
    expect(made[1].closed).toBe(true);
  });

  it('keeps its client while sends settle', async () => {
    const { made, create } = doubles(['ok']);
    const producer = new PlatformaticProducer(['127.0.0.1:1'], 'test', { sendTimeoutMs: 10_000, createClient: create });
    for (let n = 0; n < 5; n++) await producer.send([record(n)]);
    expect(made).toHaveLength(1);
    expect(made[0].sends).toHaveLength(5);
  });
});
