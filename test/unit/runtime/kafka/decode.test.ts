import { IS_CONTROL, IS_TRANSACTIONAL, type fetchV17 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { decodePartition } from '../../../../runtime/kafka/platformatic/decode.js';

type Partition = fetchV17.FetchResponsePartition;
type Batch = NonNullable<Partition['records']>[number];
type AbortedTransaction = Partition['abortedTransactions'][number];

const TIMESTAMP_LOG_APPEND_TIME = 0x08;
const NO_PRODUCER = -1n;

interface BatchSpec {
  readonly firstOffset: bigint;
  /** Number of data records (ignored for control batches, which hold one marker). */
  readonly count?: number;
  readonly producerId?: bigint;
  readonly transactional?: boolean;
  /** A control batch: the transaction marker of `producerId`. */
  readonly marker?: 'abort' | 'commit';
  readonly attributes?: number;
  readonly firstTimestamp?: bigint;
  readonly maxTimestamp?: bigint;
}

/** A record batch as the library's decoder leaves it; values are `v<offset>` so results read as offsets. */
function batch(spec: BatchSpec): Batch {
  const producerId = spec.producerId ?? NO_PRODUCER;
  const isMarker = spec.marker !== undefined;
  const count = isMarker ? 1 : (spec.count ?? 1);
  let attributes = spec.attributes ?? 0;
  if (spec.transactional || isMarker) attributes |= IS_TRANSACTIONAL;
  if (isMarker) attributes |= IS_CONTROL;
  const records: Batch['records'] = [];
  for (let i = 0; i < count; i++) {
    const offset = spec.firstOffset + BigInt(i);
    let key: Buffer | null = null;
    if (isMarker) {
      key = Buffer.alloc(4);
      key.writeInt16BE(0, 0);
      key.writeInt16BE(spec.marker === 'abort' ? 0 : 1, 2);
    }
    records.push({
      length: 0,
      attributes: 0,
      timestampDelta: BigInt(i),
      offsetDelta: i,
      key,
      value: isMarker ? Buffer.alloc(6) : Buffer.from(`v${offset}`),
      headers: [],
    });
  }
  return {
    firstOffset: spec.firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta: count - 1,
    firstTimestamp: spec.firstTimestamp ?? 1_000n,
    maxTimestamp: spec.maxTimestamp ?? 1_000n + BigInt(count - 1),
    producerId,
    producerEpoch: producerId === NO_PRODUCER ? -1 : 0,
    firstSequence: 0,
    records,
  };
}

function partition(records: Batch[] | undefined, abortedTransactions: AbortedTransaction[] = []): Partition {
  return {
    partitionIndex: 0,
    errorCode: 0,
    highWatermark: 0n,
    lastStableOffset: 0n,
    logStartOffset: 0n,
    abortedTransactions,
    preferredReadReplica: -1,
    ...(records === undefined ? {} : { records }),
  };
}

function decode(data: Partition, from = 0n, readCommitted = true) {
  const { records, next } = decodePartition('t', 0, data, from, readCommitted);
  return { offsets: records.map((r) => r.offset), values: records.map((r) => r.value?.toString()), next, records };
}

const P = 7n;
const Q = 9n;

describe('decodePartition: read_committed', () => {
  it('drops every aborted transaction of a producer in one response, not only its last one', () => {
    // The case @platformatic/kafka 1.35.0's own filter gets wrong: it remembers one aborted range per producer.
    const data = partition(
      [
        batch({ firstOffset: 0n, count: 2, producerId: P, transactional: true }),
        batch({ firstOffset: 2n, producerId: P, marker: 'abort' }),
        batch({ firstOffset: 3n, producerId: P, transactional: true }),
        batch({ firstOffset: 4n, producerId: P, marker: 'commit' }),
        batch({ firstOffset: 5n, count: 2, producerId: P, transactional: true }),
        batch({ firstOffset: 7n, producerId: P, marker: 'abort' }),
      ],
      [
        { producerId: P, firstOffset: 0n },
        { producerId: P, firstOffset: 5n },
      ],
    );
    expect(decode(data)).toMatchObject({ offsets: [3n], values: ['v3'], next: 8n });
  });

  it('filters by producer when transactions interleave', () => {
    const data = partition(
      [
        batch({ firstOffset: 0n, producerId: P, transactional: true }),
        batch({ firstOffset: 1n, producerId: Q, transactional: true }),
        batch({ firstOffset: 2n, producerId: P, transactional: true }),
        batch({ firstOffset: 3n, producerId: Q, marker: 'commit' }),
        batch({ firstOffset: 4n, producerId: P, marker: 'abort' }),
        batch({ firstOffset: 5n, producerId: P, transactional: true }),
      ],
      [{ producerId: P, firstOffset: 0n }],
    );
    // Offset 5 is P's next transaction (not in the aborted list): it is kept.
    expect(decode(data).offsets).toEqual([1n, 5n]);
  });

  it('does not depend on the order of the aborted-transaction list', () => {
    const batches = [
      batch({ firstOffset: 0n, producerId: P, transactional: true }),
      batch({ firstOffset: 1n, producerId: P, marker: 'abort' }),
      batch({ firstOffset: 2n, producerId: Q, transactional: true }),
      batch({ firstOffset: 3n, producerId: Q, marker: 'abort' }),
      batch({ firstOffset: 4n, producerId: P, transactional: true }),
      batch({ firstOffset: 5n, producerId: P, marker: 'commit' }),
    ];
    const sorted = decode(partition(batches, [{ producerId: P, firstOffset: 0n }, { producerId: Q, firstOffset: 2n }]));
    const reversed = decode(partition(batches, [{ producerId: Q, firstOffset: 2n }, { producerId: P, firstOffset: 0n }]));
    expect(sorted.offsets).toEqual([4n]);
    expect(reversed.offsets).toEqual([4n]);
  });

  it('keeps an aborted transaction active when its first batch lies before `from`', () => {
    const data = partition(
      [
        batch({ firstOffset: 0n, count: 3, producerId: P, transactional: true }),
        batch({ firstOffset: 3n, producerId: P, marker: 'abort' }),
        batch({ firstOffset: 4n, producerId: Q, transactional: true }),
      ],
      [{ producerId: P, firstOffset: 0n }],
    );
    expect(decode(data, 1n)).toMatchObject({ offsets: [4n], next: 5n });
  });

  it('keeps non-transactional batches, even of a producer id with an aborted transaction', () => {
    const data = partition(
      [
        batch({ firstOffset: 0n, producerId: P, transactional: true }),
        batch({ firstOffset: 1n, producerId: P }),
        batch({ firstOffset: 2n }),
        batch({ firstOffset: 3n, producerId: P, marker: 'abort' }),
      ],
      [{ producerId: P, firstOffset: 0n }],
    );
    expect(decode(data).offsets).toEqual([1n, 2n]);
  });

  it('drops an aborted transaction whose marker is not in this response yet', () => {
    const data = partition([batch({ firstOffset: 10n, count: 2, producerId: P, transactional: true })], [{ producerId: P, firstOffset: 10n }]);
    expect(decode(data, 10n)).toMatchObject({ offsets: [], next: 12n });
  });
});

describe('decodePartition: read_uncommitted', () => {
  it('returns the records of aborted transactions and skips only the markers', () => {
    const data = partition(
      [
        batch({ firstOffset: 0n, count: 2, producerId: P, transactional: true }),
        batch({ firstOffset: 2n, producerId: P, marker: 'abort' }),
        batch({ firstOffset: 3n }),
      ],
      [{ producerId: P, firstOffset: 0n }],
    );
    expect(decode(data, 0n, false)).toMatchObject({ offsets: [0n, 1n, 3n], next: 4n });
  });
});

describe('decodePartition: positions and fields', () => {
  it('skips records before `from` inside a batch and advances past the last batch seen', () => {
    const data = partition([batch({ firstOffset: 0n, count: 4 }), batch({ firstOffset: 4n, producerId: P, marker: 'commit' })]);
    expect(decode(data, 2n)).toMatchObject({ offsets: [2n, 3n], next: 5n });
  });

  it('moves past a response of markers only, and reports no next offset when nothing reaches `from`', () => {
    expect(decode(partition([batch({ firstOffset: 5n, producerId: P, marker: 'commit' })]), 5n)).toMatchObject({ offsets: [], next: 6n });
    expect(decode(partition([batch({ firstOffset: 0n, count: 2 })]), 2n)).toMatchObject({ offsets: [], next: null });
    expect(decode(partition(undefined))).toMatchObject({ offsets: [], next: null });
  });

  it('takes the timestamp from the batch under LogAppendTime and maps headers', () => {
    const create = batch({ firstOffset: 0n, count: 2, firstTimestamp: 5_000n });
    create.records[0].headers = [
      [Buffer.from('h'), Buffer.from('1')],
      [null, null],
    ];
    const append = batch({ firstOffset: 2n, count: 2, attributes: TIMESTAMP_LOG_APPEND_TIME, firstTimestamp: 5_000n, maxTimestamp: 9_000n });
    const { records } = decode(partition([create, append]));
    expect(records.map((r) => r.timestamp)).toEqual([5_000, 5_001, 9_000, 9_000]);
    expect(records[0]).toMatchObject({ topic: 't', partition: 0, key: null });
    expect(records[0].headers).toEqual([
      ['h', Buffer.from('1')],
      ['', Buffer.alloc(0)],
    ]);
  });
});
