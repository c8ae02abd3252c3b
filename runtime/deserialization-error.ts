import { VotestreamError } from './errors.js';

/** A source record that could not be deserialized, under the `fail` policy (or in a global table). */
export class DeserializationError extends VotestreamError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  constructor(topic: string, partition: number, offset: number, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super('DESERIALIZATION', `Cannot deserialize record ${topic}-${partition}@${offset}: ${reason}`, options);
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
