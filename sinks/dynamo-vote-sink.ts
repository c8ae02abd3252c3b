/**
 * Transitional: index.ts (being reshaped for the closed public surface, issue 9 part 6) still
 * exports these names from here. The vote sink itself is voting/vote-log-sink.ts; once index.ts
 * exports it from there, delete this file.
 */
export { DynamoChainSink as DynamoVoteSink, type DynamoChainSinkOptions as DynamoVoteSinkOptions } from './dynamo-chain-sink.js';
