import { Admin, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../runtime/errors.js';

/** As the broker configs in kafka-service.ts: offsets.topic.num.partitions, transaction.state.log.num.partitions. */
const COORDINATOR_PARTITIONS = 12;

/** Java's String.hashCode, which the broker uses to map a group or transactional id to a coordinator partition. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** One key per coordinator partition: asking for them all asks for every partition of the internal topic. */
function keysCoveringEveryPartition(): string[] {
  const byPartition = new Map<number, string>();
  for (let n = 0; byPartition.size < COORDINATOR_PARTITIONS; n++) {
    const key = `votestream-stack-${n}`;
    const p = (javaHash(key) & 0x7fffffff) % COORDINATOR_PARTITIONS;
    if (!byPartition.has(p)) byPartition.set(p, key);
  }
  return [...byPartition.values()];
}

/**
 * Has the brokers create __consumer_offsets and __transaction_state and elect a coordinator for
 * every partition of both, and waits until they have. On a fresh multi-broker cluster these are
 * created by the first FindCoordinator, replicated three times, and until every partition has a
 * leader a client's first InitProducerId answers NOT_COORDINATOR for longer than a client retries:
 * `stack up` returns a cluster where the first transaction works.
 */
export async function waitKafkaCoordinators(brokers: string, timeoutMs = 120_000): Promise<void> {
  const admin = new Admin({ clientId: 'votestream-stack', bootstrapBrokers: brokers.split(','), timeout: 5_000, retries: 0 });
  const keys = keysCoveringEveryPartition();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        for (const keyType of [FindCoordinatorKeyTypes.TRANSACTION, FindCoordinatorKeyTypes.GROUP]) {
          const found = await admin.findCoordinator({ keyType, keys });
          if (found.length !== keys.length || found.some((c) => c.nodeId < 0)) throw new ServiceUnavailableError('a coordinator is not elected yet');
        }
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          throw new ServiceUnavailableError(`the Kafka group and transaction coordinators were not ready within ${timeoutMs / 1000}s: ${(err as Error).message}`, { cause: err });
        }
        await sleep(500);
      }
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}
