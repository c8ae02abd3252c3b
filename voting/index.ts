export * from './vote.js';
export * from './election.js';
export * from './decide.js';
export * from './hash-chain.js';
export * from './redis-keys.js';
export * from './topics.js';
