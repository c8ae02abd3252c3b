import type { StreamRecord } from '../topology/record.js';

/** A node that receives records from a parent: processor, topic sink or external sink. */
export interface ChildNode {
  readonly name: string;
  process(record: StreamRecord<unknown, unknown>): void | Promise<void>;
}

/**
 * Gives a record to each child in turn, waiting for an asynchronous child before the next one.
 * Synchronous chains allocate no Promise at all.
 */
export function dispatch(
  children: readonly ChildNode[],
  record: StreamRecord<unknown, unknown>,
  from = 0,
): void | Promise<void> {
  for (let i = from; i < children.length; i++) {
    const pending = children[i].process(record);
    if (pending !== undefined) {
      const next = i + 1;
      return next < children.length ? pending.then(() => dispatch(children, record, next)) : pending;
    }
  }
}
