/**
 * The `Sink` contract lives beside the DSL that declares `to(sink)` (topology/sink.ts, DESIGN
 * section 2); the sinks folder re-exports it for the sinks built on it.
 */
export type { Sink, SinkProgress, SinkRecord, SinkSupplier, SinkTaskInfo } from '../topology/sink.js';
