// `votestream/voting`: the voting application built on the framework (its topology, its sinks, the
// vote and election formats of DESIGN section 3).
export { VoteCountSink, type VoteCountSinkOptions } from './count-sink.js';
export { DynamoVoteSink, type DynamoVoteSinkOptions } from './vote-log-sink.js';
export { votingTopology, votingApplicationId, VOTING_ROLES, type VotingRole, type VotingTopologyOptions } from './topology.js';
export * from './vote.js';
export * from './election.js';
export * from './error-codes.js';
export * from './decide.js';
export * from './hash-chain.js';
export * from './redis-keys.js';
export * from './topics.js';
