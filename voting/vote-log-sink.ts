/**
 * The persist role's sink: `votes-accepted` -> the vote chains in `votestream-votes`, exactly once
 * (the generic DynamoChainSink with the vote chain layout of vote-chain.ts).
 */
import { DynamoChainSink, type DynamoChainSinkOptions } from '../sinks/dynamo-chain-sink.js';
import { voteChainLayout } from './vote-chain.js';
import type { AcceptedVote } from './vote.js';

export type DynamoVoteSinkOptions = Omit<DynamoChainSinkOptions<string, AcceptedVote>, 'layout' | 'name'>;

export class DynamoVoteSink extends DynamoChainSink<string, AcceptedVote> {
  constructor(options: DynamoVoteSinkOptions) {
    // The name keeps the sink's log lines and errors as they were (operators and tests match them).
    super({ ...options, layout: voteChainLayout, name: 'dynamo vote sink' });
  }
}
