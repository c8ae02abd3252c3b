/**
 * One partition's log, as the broker keeps it: every entry takes one offset, data records and the
 * control markers that end transactions alike, so offsets advance exactly as on a real broker (the
 * runtime counts on "the commit marker follows our records", commit-strategy.ts).
 */
import type { ConsumedRecord, IsolationLevel, RecordHeaders } from '../driver.js';
import { KafkaDriverError } from '../errors.js';

/** A transaction as the log sees it: its records stay hidden from read_committed readers while it is open or after it aborted. */
export interface TxnState {
  readonly transactionalId: string;
  readonly producerEpoch: number;
  status: 'open' | 'committed' | 'aborted';
}

export interface LogEntry {
  readonly offset: bigint;
  /** A marker ends a transaction on this partition; readers never see it, but it takes an offset. */
  readonly kind: 'record' | 'marker';
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
  /** null: written outside any transaction. */
  readonly txn: TxnState | null;
  /** Who wrote it (a transactional id, or a producer's client id), so tests can tell which member produced an output. */
  readonly producer: string;
}

export interface AppendedRecord {
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
}

export interface ReadResult {
  readonly records: ConsumedRecord[];
  /** The position after this read: past every entry scanned, including hidden ones and markers. */
  readonly next: bigint;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Offset of entries[0]: records before it were deleted (deleteRecords / retention). */
  #start = 0n;
  #entries: LogEntry[] = [];

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get logStart(): bigint {
    return this.#start;
  }

  get highWatermark(): bigint {
    return this.#start + BigInt(this.#entries.length);
  }

  /** The first offset of a still-open transaction: read_committed readers stop there, even before later committed records. */
  get lastStable(): bigint {
    const open = this.#entries.find((e) => e.txn !== null && e.txn.status === 'open');
    return open === undefined ? this.highWatermark : open.offset;
  }

  end(isolation: IsolationLevel): bigint {
    return isolation === 'read_committed' ? this.lastStable : this.highWatermark;
  }

  /** Every entry still in the log, markers and hidden records included: for inspection in tests. */
  entries(): readonly LogEntry[] {
    return this.#entries;
  }

  append(record: AppendedRecord, txn: TxnState | null, producer: string): bigint {
    const offset = this.highWatermark;
    this.#entries.push({ offset, kind: 'record', ...record, txn, producer });
    return offset;
  }

  appendMarker(txn: TxnState, timestamp: number): bigint {
    const offset = this.highWatermark;
    this.#entries.push({ offset, kind: 'marker', timestamp, key: null, value: null, headers: [], txn, producer: txn.transactionalId });
    return offset;
  }

  /** Like DeleteRecords: the log then starts at `before`, and positions below it are out of range. */
  deleteBefore(before: bigint): void {
    if (before <= this.#start) return;
    if (before > this.highWatermark) throw new KafkaDriverError(`cannot delete ${this.topic}[${this.partition}] up to ${before}: the log ends at ${this.highWatermark}`);
    this.#entries = this.#entries.slice(Number(before - this.#start));
    this.#start = before;
  }

  inRange(position: bigint): boolean {
    return position >= this.#start && position <= this.highWatermark;
  }

  /**
   * The visible records from `from` up to the isolation level's end (and below `limit`), at most
   * `maxRecords`. Under read_committed, records of aborted transactions are skipped, as the real
   * driver's own filter does (decode.ts), and the position still moves past them.
   */
  read(from: bigint, isolation: IsolationLevel, maxRecords: number, limit?: bigint): ReadResult {
    let end = this.end(isolation);
    if (limit !== undefined && limit < end) end = limit;
    const records: ConsumedRecord[] = [];
    let next = from;
    for (let offset = from; offset < end; offset++) {
      if (records.length >= maxRecords) break;
      const e = this.#entries[Number(offset - this.#start)];
      next = offset + 1n;
      if (e === undefined || e.kind === 'marker') continue;
      if (isolation === 'read_committed' && e.txn !== null && e.txn.status !== 'committed') continue;
      records.push({ topic: this.topic, partition: this.partition, offset: e.offset, timestamp: e.timestamp, key: e.key, value: e.value, headers: e.headers });
    }
    return { records, next: next > from ? next : from };
  }
}
