/** A group-less reader of fixed partitions over a FakeCluster (restoration, global stores, tools), as platformatic/reader.ts. */
import type { ConsumedRecord, IsolationLevel, PollOptions, ReadToEndResult, Reader, ReaderOptions, TopicPartition, TopicPartitionOffset } from '../driver.js';
import { KafkaDriverError } from '../errors.js';
import { FakeClient, type FakeClientContext } from './fake-client.js';
import { compareTp, tpKey } from './fake-groups.js';

export class FakeReader extends FakeClient implements Reader {
  readonly #isolation: IsolationLevel;
  readonly #partitions: TopicPartition[];
  readonly #positions = new Map<string, bigint>();

  /** Use FakeKafkaDriver.createReader: start offsets are resolved there, before it returns. */
  constructor(ctx: FakeClientContext, clientId: string, options: ReaderOptions) {
    super(ctx, clientId);
    this.#isolation = options.isolation ?? 'read_committed';
    this.#partitions = options.partitions.map(({ topic, partition }) => ({ topic, partition })).sort(compareTp);
    for (const p of options.partitions) {
      const log = ctx.cluster.log(p);
      this.#positions.set(tpKey(p), typeof p.from === 'bigint' ? p.from : p.from === 'earliest' ? log.logStart : log.end(this.#isolation));
    }
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.#positions.get(tpKey(tp));
  }

  seek(tp: TopicPartitionOffset): void {
    if (!this.#positions.has(tpKey(tp))) throw new KafkaDriverError(`${tpKey(tp)} is not assigned to this reader`);
    this.#positions.set(tpKey(tp), tp.offset);
  }

  async endOffsets(): Promise<TopicPartitionOffset[]> {
    return this.#partitions.map((tp) => ({ ...tp, offset: this.cluster.log(tp).end(this.#isolation) }));
  }

  #read(partitions: readonly TopicPartition[], maxRecords: number, limits?: ReadonlyMap<string, bigint>): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const tp of partitions) {
      if (out.length >= maxRecords) break;
      const log = this.cluster.log(tp);
      const position = this.#positions.get(tpKey(tp)) as bigint;
      if (!log.inRange(position)) throw new KafkaDriverError(`reader positions out of range: ${tpKey(tp)}`);
      const { records, next } = log.read(position, this.#isolation, maxRecords - out.length, limits?.get(tpKey(tp)));
      this.#positions.set(tpKey(tp), next);
      out.push(...records);
    }
    return out;
  }

  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    await this.enter('readerPoll');
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    const records = this.#read(this.#partitions, maxRecords);
    if (records.length > 0) return records;
    await this.cluster.waitForChange(options.maxWaitMs ?? 500);
    return this.#read(this.#partitions, maxRecords);
  }

  /** Everything below the ends taken at the start is decided (below the last stable offset), so one pass reaches them. */
  async readToEnd(onBatch: (records: ConsumedRecord[]) => Promise<void> | void): Promise<ReadToEndResult> {
    await this.enter('readerPoll');
    const end = await this.endOffsets();
    const limits = new Map(end.map((e) => [tpKey(e), e.offset]));
    let count = 0;
    for (;;) {
      const pending = this.#partitions.filter((tp) => (this.#positions.get(tpKey(tp)) as bigint) < (limits.get(tpKey(tp)) as bigint));
      if (pending.length === 0) return { records: count, end };
      const records = this.#read(pending, 10_000, limits);
      if (records.length > 0) {
        count += records.length;
        await onBatch(records);
      }
    }
  }
}
