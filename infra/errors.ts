import { VotestreamError } from '../runtime/errors.js';

/** A child process (a service of the local stack, a worker) could not be started: spawn gave it no pid. */
export class ProcessStartError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PROCESS_START', message, options);
  }
}
