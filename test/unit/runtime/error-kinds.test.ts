import { describe, expect, it } from 'vitest';
import { isFatalError, isInfrastructureError } from '../../../runtime/error-kinds.js';
import { ConfigError, InfrastructureError, SinkStateLostError, VotestreamError } from '../../../runtime/errors.js';
import { KafkaDriverError, TransactionError } from '../../../runtime/kafka/errors.js';
import { StoreArgumentError, StoreWriteError } from '../../../statestores/errors.js';
import { TopologyError } from '../../../topology/topology-error.js';

describe('error kinds: what the runtime replays, dead-letters or stops on', () => {
  it('replays (never dead-letters) failures of Kafka, sinks and stores, LevelDB included', () => {
    const levelDbIo = Object.assign(new Error('IO error: /state/0_3/voters/000012.ldb: No space left on device'), { code: 'LEVEL_IO_ERROR' });
    for (const err of [
      new InfrastructureError('redis refused: OOM command not allowed'),
      new SinkStateLostError('watermark of partition 3 is gone'),
      new KafkaDriverError('fetch failed'),
      new TransactionError('commit timed out'),
      new StoreWriteError('voters', 'batch write failed'),
      levelDbIo,
    ]) {
      expect(isInfrastructureError(err), String(err)).toBe(true);
      expect(isFatalError(err), String(err)).toBe(false);
    }
  });

  it('dead-letters what is about the record itself', () => {
    for (const err of [new Error('Cannot read properties of undefined'), new StoreArgumentError('voters', 'key longer than 1024 bytes'), new VotestreamError('RECORD_TOO_LARGE', 'too large')]) {
      expect(isInfrastructureError(err), String(err)).toBe(false);
      expect(isFatalError(err), String(err)).toBe(false);
    }
  });

  it('stops on configuration, topology and protocol errors, which no retry mends', () => {
    for (const err of [new ConfigError('bad'), new TopologyError('no serde'), new VotestreamError('STORE_COMMIT_PROTOCOL', 'offset went back'), new VotestreamError('PROCESSING_FAILED', 'fail policy')]) {
      expect(isFatalError(err), String(err)).toBe(true);
    }
  });
});
