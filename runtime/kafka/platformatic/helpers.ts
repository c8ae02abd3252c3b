import type { IsolationLevel, TopicPartition } from '../driver.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;
/** ListOffsets special timestamps. */
export const LATEST = -1n;
export const EARLIEST = -2n;

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`;
}

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

export function sortTps<T extends TopicPartition>(tps: T[]): T[] {
  return tps.sort(compareTp);
}

export function groupByTopic(tps: readonly TopicPartition[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    let list = out.get(topic);
    if (!list) out.set(topic, (list = []));
    list.push(partition);
  }
  return out;
}

export function isolationCode(isolation: IsolationLevel | undefined): number {
  return (isolation ?? 'read_committed') === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Serialises async operations. Checked against @platformatic/kafka 1.35.0: the library reads idempotent
 * sequence numbers when a produce request is built and increments them only on the response, and it
 * deduplicates concurrent AddPartitionsToTxn calls, so concurrent sends would reuse sequences or skip
 * the registration of a partition in the transaction.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
