import { VotestreamError } from './errors.js';
import type { RecordContext } from './record-context.js';

/** A source record that could not be deserialized, under the `fail` policy (or in a global table). */
export class DeserializationError extends VotestreamError implements RecordContext {
  readonly taskId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  constructor(context: RecordContext, options: { cause: unknown }) {
    const { taskId, topic, partition, offset } = context;
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super('DESERIALIZATION', `Cannot deserialize record ${topic}-${partition}@${offset}: ${reason}`, options);
    this.taskId = taskId;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
