/** Broker lists and client ids, the same for every driver over a real cluster. */
import { KafkaDriverError } from './errors.js';

/** A comma-separated host:port list, blanks dropped; an empty one is refused. */
export function parseBrokers(list: string): string[] {
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new KafkaDriverError('no brokers given');
  return brokers;
}

/** Client ids `<prefix>-<kind>-<n>` (n counts per driver) unless the caller gives one. */
export class ClientIds {
  readonly #prefix: string;
  #seq = 0;

  constructor(prefix = 'votestream') {
    this.#prefix = prefix;
  }

  next(kind: string, given: string | undefined): string {
    return given ?? `${this.#prefix}-${kind}-${++this.#seq}`;
  }
}
