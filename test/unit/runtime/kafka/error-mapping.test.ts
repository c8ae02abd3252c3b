import { MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { FencedError, KafkaDriverError, TransactionError } from '../../../../runtime/kafka/errors.js';
import {
  describe as describeError,
  fetchFailureIsFatal,
  findResponse,
  hasAny,
  isRetriableCoordinatorError,
  kafkaErrorIds,
  mapCommitError,
  mapTransactionError,
} from '../../../../runtime/kafka/platformatic/error-mapping.js';

// API keys of the requests whose failures are built below.
const FETCH = 1;
const OFFSET_COMMIT = 8;
const END_TXN = 26;
const TXN_OFFSET_COMMIT = 28;

/** The error the library (1.35.0) raises for a response with errors: codes by path, the response kept. */
function responseError(apiKey: number, codes: Record<string, number>, response: unknown = {}): ResponseError {
  const errors = Object.fromEntries(Object.entries(codes).map(([path, code]) => [path, [code, null] as [number, null]]));
  return new ResponseError(apiKey, 0, errors, response);
}

/** A failure after the library's retries: its MultipleErrors around the attempts. */
function afterRetries(...attempts: Error[]): MultipleErrors {
  return new MultipleErrors('retries exhausted', attempts);
}

const PRODUCER_FENCED = 90;
const INVALID_PRODUCER_EPOCH = 47;
const ILLEGAL_GENERATION = 22;
const UNKNOWN_MEMBER_ID = 25;
const NOT_COORDINATOR = 16;
const NOT_LEADER_OR_FOLLOWER = 6;
const OFFSET_OUT_OF_RANGE = 1;
const TOPIC_AUTHORIZATION_FAILED = 29;

describe('kafkaErrorIds', () => {
  it('collects the protocol error ids through MultipleErrors, ResponseErrors and causes', () => {
    const inner = responseError(TXN_OFFSET_COMMIT, { '/a/0': ILLEGAL_GENERATION, '/a/1': NOT_COORDINATOR });
    const wrapped = new Error('outer', { cause: afterRetries(new NetworkError('reset'), inner) });
    expect([...kafkaErrorIds(wrapped)].sort()).toEqual(['ILLEGAL_GENERATION', 'NOT_COORDINATOR']);
  });

  it('finds nothing in errors without ids, non-errors and cyclic causes', () => {
    const cyclic: { cause?: unknown; apiId: string } = { apiId: 'NOT_COORDINATOR' };
    cyclic.cause = cyclic;
    expect(kafkaErrorIds(new NetworkError('reset')).size).toBe(0);
    expect(kafkaErrorIds('PRODUCER_FENCED').size).toBe(0);
    expect(kafkaErrorIds(null).size).toBe(0);
    expect([...kafkaErrorIds(cyclic)]).toEqual(['NOT_COORDINATOR']);
  });
});

describe('hasAny and describe', () => {
  it('hasAny returns the first wanted id present', () => {
    const ids = new Set(['NOT_COORDINATOR', 'ILLEGAL_GENERATION']);
    expect(hasAny(ids, ['PRODUCER_FENCED', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR'])).toBe('ILLEGAL_GENERATION');
    expect(hasAny(ids, ['PRODUCER_FENCED'])).toBeUndefined();
  });

  it('describe appends the ids found to the message', () => {
    expect(describeError(afterRetries(new ProtocolError(PRODUCER_FENCED)))).toBe('retries exhausted [PRODUCER_FENCED]');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError(42)).toBe('42');
  });
});

describe('findResponse', () => {
  it('returns the decoded response a nested ResponseError keeps', () => {
    const response = { errorCode: 0, responses: [] };
    const error = afterRetries(new NetworkError('reset'), responseError(FETCH, { '/responses/0/partitions/0': OFFSET_OUT_OF_RANGE }, response));
    const hasResponses = (r: object): boolean => Array.isArray((r as { responses?: unknown }).responses);
    expect(findResponse(error, hasResponses)).toBe(response);
    expect(findResponse(new NetworkError('reset'), hasResponses)).toBeUndefined();
    expect(findResponse(responseError(FETCH, { '': NOT_LEADER_OR_FOLLOWER }, { other: 1 }), hasResponses)).toBeUndefined();
  });
});

describe('mapTransactionError', () => {
  it('maps a producer fence to FencedError(producer), whatever the operation', () => {
    for (const code of [PRODUCER_FENCED, INVALID_PRODUCER_EPOCH]) {
      const cause = afterRetries(responseError(END_TXN, { '': code }));
      const mapped = mapTransactionError(cause, 'tx-1', 'committing');
      expect(mapped).toBeInstanceOf(FencedError);
      expect(mapped).toMatchObject({ kind: 'producer', cause });
      expect(mapped.message).toContain('tx-1');
      expect(mapped.message).toContain('committing');
    }
  });

  it('maps a stale generation to FencedError(group) only where offsets are sent', () => {
    const cause = responseError(TXN_OFFSET_COMMIT, { '/topics/0/partitions/0': ILLEGAL_GENERATION });
    expect(mapTransactionError(cause, 'tx-1', 'sending offsets', true)).toMatchObject({ kind: 'group' });
    const elsewhere = mapTransactionError(cause, 'tx-1', 'committing');
    expect(elsewhere).toBeInstanceOf(TransactionError);
    expect(elsewhere).not.toBeInstanceOf(FencedError);
  });

  it('lets a producer fence win over a group fence', () => {
    const cause = afterRetries(responseError(TXN_OFFSET_COMMIT, { '/a': UNKNOWN_MEMBER_ID, '/b': PRODUCER_FENCED }));
    expect(mapTransactionError(cause, 'tx-1', 'sending offsets', true)).toMatchObject({ kind: 'producer' });
  });

  it('maps anything else to an abortable TransactionError and passes driver errors through', () => {
    const mapped = mapTransactionError(new NetworkError('reset'), 'tx-1', 'sending');
    expect(mapped).toBeInstanceOf(TransactionError);
    expect(mapped).toMatchObject({ abortable: true });
    expect(mapped.message).toBe('transaction of tx-1 failed while sending: reset');
    for (const own of [new FencedError('group', 'x'), new TransactionError('y', { abortable: false }), new KafkaDriverError('z')]) {
      expect(mapTransactionError(own, 'tx-1', 'sending', true)).toBe(own);
    }
  });
});

describe('mapCommitError', () => {
  it('maps a stale generation to FencedError(group) and the rest to KafkaDriverError', () => {
    const fenced = mapCommitError(responseError(OFFSET_COMMIT, { '/topics/0/partitions/0': UNKNOWN_MEMBER_ID }), 'g');
    expect(fenced).toMatchObject({ kind: 'group' });
    expect(fenced.message).toContain('offset commit of group g rejected');
    const other = mapCommitError(new NetworkError('reset'), 'g');
    expect(other).toBeInstanceOf(KafkaDriverError);
    expect(other.message).toBe('offset commit of group g failed: reset');
  });
});

describe('fetchFailureIsFatal', () => {
  it('retries stale metadata and connection loss until they have failed more than 20 times in a row', () => {
    const stale = responseError(FETCH, { '/responses/0/partitions/0': NOT_LEADER_OR_FOLLOWER });
    expect(fetchFailureIsFatal(stale, 1)).toBe(false);
    expect(fetchFailureIsFatal(new NetworkError('reset'), 20)).toBe(false);
    expect(fetchFailureIsFatal(stale, 21)).toBe(true);
  });

  it('surfaces any other Kafka error at once', () => {
    expect(fetchFailureIsFatal(responseError(FETCH, { '': TOPIC_AUTHORIZATION_FAILED }), 1)).toBe(true);
  });

  it('retries a failure with any stale-metadata id in it, even next to another error', () => {
    // The other error surfaces on the next fetch, once the metadata is fresh, or after 20 failures.
    expect(fetchFailureIsFatal(responseError(FETCH, { '/a': NOT_LEADER_OR_FOLLOWER, '/b': TOPIC_AUTHORIZATION_FAILED }), 1)).toBe(false);
  });
});

describe('isRetriableCoordinatorError', () => {
  it('retries a moving or busy coordinator, never a fence', () => {
    expect(isRetriableCoordinatorError(responseError(TXN_OFFSET_COMMIT, { '': NOT_COORDINATOR }))).toBe(true);
    expect(isRetriableCoordinatorError(responseError(TXN_OFFSET_COMMIT, { '/a': NOT_COORDINATOR, '/b': ILLEGAL_GENERATION }))).toBe(false);
    expect(isRetriableCoordinatorError(responseError(TXN_OFFSET_COMMIT, { '/a': NOT_COORDINATOR, '/b': PRODUCER_FENCED }))).toBe(false);
    expect(isRetriableCoordinatorError(new NetworkError('reset'))).toBe(false);
  });
});
