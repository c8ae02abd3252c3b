import { VotestreamError } from './errors.js';
import type { RecordContext } from './record-context.js';

/**
 * A record failed under `processingExceptionHandler: 'fail'`: the app stops (a fatal error). It
 * carries where (task, topic, partition, offset); the record's own error is its `cause`.
 */
export class ProcessingFailedError extends VotestreamError implements RecordContext {
  readonly taskId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  constructor(context: RecordContext, cause: unknown) {
    const { taskId, topic, partition, offset } = context;
    super('PROCESSING_FAILED', `processing ${topic}[${partition}]@${offset} in task ${taskId} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.taskId = taskId;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
