import type { KeyValueStore } from '../statestores/key-value-store.js';
import type { Cancellable, Punctuator, PunctuationType } from '../topology/processor.js';
import type { RecordMetadata } from '../topology/record.js';
import type { ProcessorNode } from './processor-node.js';

/** What a StreamTask lends to its nodes: identity, time, stores and the punctuation schedule. */
export interface TaskHost {
  readonly applicationId: string;
  readonly taskId: string;
  readonly partition: number;
  metadata(): RecordMetadata | undefined;
  streamTimeMs(): number;
  nowMs(): number;
  store(name: string): KeyValueStore<unknown>;
  schedule(node: ProcessorNode, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /** A node skipped the record being processed (ProcessorContext.recordDropped). */
  dropped(node: string, reason: string): void;
}
