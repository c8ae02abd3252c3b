/**
 * An audit that cannot read one of its sources has found nothing: it must not print a report that
 * looks clean or dirty. A read that fails becomes an InfrastructureError naming the source (the CLI
 * exits with the service code, 4), except a configuration error (a missing table or topic), which
 * is the user's to fix and keeps its own code.
 */
import { ConfigError, InfrastructureError } from '../../runtime/errors.js';

export function readFailure(source: string, err: unknown): Error {
  if (err instanceof ConfigError || err instanceof InfrastructureError) return err;
  return new InfrastructureError(`audit: could not read ${source}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
