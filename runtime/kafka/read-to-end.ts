/** `Reader.readToEnd` for any reader that can poll a subset of its partitions up to per-partition limits (driver.ts). */
import type { ConsumedRecord, ReadToEndResult, TopicPartition, TopicPartitionOffset } from './driver.js';
import { KafkaDriverError } from './errors.js';
import { tpKey } from './platformatic/helpers.js';

export interface LimitedPolling {
  readonly partitions: readonly TopicPartition[];
  position(tp: TopicPartition): bigint | undefined;
  endOffsets(): Promise<TopicPartitionOffset[]>;
  /** Polls `partitions`, never handing over a record at or past its partition's limit. */
  pollWithin(partitions: readonly TopicPartition[], maxWaitMs: number, limits: ReadonlyMap<string, bigint>): Promise<ConsumedRecord[]>;
}

export async function readToEnd(
  reader: LimitedPolling,
  onBatch: (records: ConsumedRecord[]) => Promise<void> | void,
  options: { readonly timeoutMs?: number } = {},
): Promise<ReadToEndResult> {
  const end = await reader.endOffsets();
  const limits = new Map(end.map((e) => [tpKey(e), e.offset]));
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  let count = 0;
  for (;;) {
    const pending = reader.partitions.filter((tp) => (reader.position(tp) ?? -1n) < (limits.get(tpKey(tp)) as bigint));
    if (pending.length === 0) return { records: count, end };
    if (Date.now() > deadline) {
      const where = pending.map((tp) => `${tpKey(tp)} at ${reader.position(tp)} of ${limits.get(tpKey(tp))}`).join(', ');
      throw new KafkaDriverError(`readToEnd timed out: ${where}`);
    }
    const records = await reader.pollWithin(pending, 200, limits);
    if (records.length > 0) {
      count += records.length;
      await onBatch(records);
    }
  }
}
