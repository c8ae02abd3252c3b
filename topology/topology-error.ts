import { VotestreamError } from '../statestores/votestream-error.js';

/** A topology that cannot run as built (found by `StreamsBuilder.build()` or when a task wires it). */
export class TopologyError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TOPOLOGY', message, options);
  }
}
