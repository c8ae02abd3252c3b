/**
 * The read_committed filter, done here rather than by the library. Checked against @platformatic/kafka
 * 1.35.0 (`Consumer#filterUncommittedMessages`, used by its MessagesStream): it keys the aborted
 * transactions of a fetch response by producer id in a Map, so only the LAST aborted transaction of each
 * producer is filtered and the earlier ones of that producer in the same response leak through
 * (reproduced against Kafka 4.1). This follows the Java consumer instead.
 */
import { IS_CONTROL, IS_TRANSACTIONAL, type fetchV17 } from '@platformatic/kafka';
import { NO_HEADERS, type ConsumedRecord } from '../driver.js';

const TIMESTAMP_LOG_APPEND_TIME = 0x08;


/** Control record type of an abort marker (1 is a commit). */
const CONTROL_TYPE_ABORT = 0;

export interface DecodedPartition {
  readonly records: ConsumedRecord[];
  /** Offset after the last batch seen (data, aborted or control), or null when the response had none past `from`. */
  readonly next: bigint | null;
}

/**
 * Decodes one partition of a fetch response from offset `from` on. Under read_committed it drops the
 * batches of aborted transactions as the Java consumer does: aborted transactions (sorted by first
 * offset) become active when a batch reaches their first offset, and stop at that producer's abort marker.
 */
export function decodePartition(topic: string, partition: number, data: fetchV17.FetchResponsePartition, from: bigint, readCommitted: boolean): DecodedPartition {
  const records: ConsumedRecord[] = [];
  let next: bigint | null = null;
  const aborted = readCommitted ? [...data.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0)) : [];
  const abortedProducers = new Set<bigint>();
  let nextAborted = 0;
  for (const batch of data.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    const isControl = (batch.attributes & IS_CONTROL) !== 0;
    const isTransactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
    if (readCommitted && batch.producerId >= 0n) {
      while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= last) {
        abortedProducers.add(aborted[nextAborted].producerId);
        nextAborted++;
      }
    }
    if (last < from) continue;
    next = last + 1n;
    if (isControl) {
      // A control record key is version int16, then type int16.
      const key = batch.records[0]?.key;
      if (readCommitted && key && key.length >= 4 && key.readInt16BE(2) === CONTROL_TYPE_ABORT) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (readCommitted && isTransactional && abortedProducers.has(batch.producerId)) continue;
    const logAppendTime = (batch.attributes & TIMESTAMP_LOG_APPEND_TIME) !== 0;
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      if (offset < from) continue;
      records.push({
        topic,
        partition,
        offset,
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta),
        key: r.key,
        value: r.value,
        headers: r.headers.length === 0 ? NO_HEADERS : r.headers.map(([k, v]) => [k ? k.toString('utf8') : '', v ?? Buffer.alloc(0)] as const),
      });
    }
  }
  return { records, next };
}
