import { KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { FencedError, KafkaDriverError, TransactionError } from '../../../../runtime/kafka/errors.js';
import { describeKafkajs, kafkajsErrorIds, mapKafkajsCommitError, mapKafkajsTransactionError } from '../../../../runtime/kafka/kafkajs/error-mapping.js';

/** A protocol error as kafkajs 2.2.4 raises it from a response's error code. */
const protocol = (type: string, retriable = false): KafkaJSProtocolError =>
  new KafkaJSProtocolError({ type, code: 0, retriable, message: `broker said ${type}` } as unknown as Error);

describe('kafkajs error mapping (same classes as the platformatic driver)', () => {
  it('finds the Kafka error ids behind retries and aggregates', () => {
    const retried = new KafkaJSNumberOfRetriesExceeded(protocol('COORDINATOR_NOT_AVAILABLE', true), { retryCount: 5, retryTime: 100 });
    const aggregate = new KafkaJSAggregateError('several', [protocol('NOT_COORDINATOR', true), retried]);
    expect([...kafkajsErrorIds(aggregate)].sort()).toEqual(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR']);
    expect(describeKafkajs(retried)).toMatch(/\[COORDINATOR_NOT_AVAILABLE\]$/);
  });

  it.each(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTION_COORDINATOR_FENCED'])('%s fences the producer, wherever it happens', (type) => {
    const mapped = mapKafkajsTransactionError(new KafkaJSNumberOfRetriesExceeded(protocol(type), { retryCount: 0, retryTime: 0 }), 'tx-1', 'committing');
    expect(mapped).toBeInstanceOf(FencedError);
    expect((mapped as FencedError).kind).toBe('producer');
    expect(mapped.message).toBe(`producer tx-1 was fenced (${type}) while committing`);
  });

  it.each(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS'])('%s fences the group only where offsets are sent', (type) => {
    const offsets = mapKafkajsTransactionError(protocol(type), 'tx-1', 'sending offsets', true);
    expect(offsets).toBeInstanceOf(FencedError);
    expect((offsets as FencedError).kind).toBe('group');
    const elsewhere = mapKafkajsTransactionError(protocol(type), 'tx-1', 'sending');
    expect(elsewhere).toBeInstanceOf(TransactionError);
    expect((elsewhere as TransactionError).abortable).toBe(true);
    const commit = mapKafkajsCommitError(protocol(type), 'g');
    expect(commit).toBeInstanceOf(FencedError);
    expect((commit as FencedError).kind).toBe('group');
  });

  it('anything else is an abortable TransactionError, or a KafkaDriverError for a plain commit; mapped errors pass through', () => {
    const lost = new KafkaJSConnectionError('Connection closed');
    const mapped = mapKafkajsTransactionError(lost, 'tx-1', 'sending');
    expect(mapped).toBeInstanceOf(TransactionError);
    expect(mapped.message).toBe('transaction of tx-1 failed while sending: Connection closed');
    expect(mapKafkajsCommitError(lost, 'g')).toBeInstanceOf(KafkaDriverError);
    const already = new FencedError('producer', 'x');
    expect(mapKafkajsTransactionError(already, 'tx-1', 'sending')).toBe(already);
  });
});
