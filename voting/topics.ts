/**
 * Topic, table, store and key names (DESIGN section 3), with a configurable prefix (default none),
 * and the topic configurations the admin creates them with. Pure: no I/O.
 */
import { ConfigError } from '../runtime/errors.js';

export const DEFAULT_PARTITIONS = 12;
/** The dedup state store; its changelog is `votestream-voters-changelog`. */
export const VOTERS_STORE = 'voters';

export interface TopicNames {
  votes: string;
  votesAccepted: string;
  votesRejected: string;
  votesDlq: string;
  elections: string;
  votersChangelog: string;
}

export interface TableNames {
  votes: string;
  elections: string;
}

const KAFKA_NAME = /^[A-Za-z0-9._-]*$/;

function checkPrefix(prefix: string, longestBase: string): void {
  if (!KAFKA_NAME.test(prefix)) {
    throw new ConfigError(`topic prefix ${JSON.stringify(prefix)} may only contain letters, digits, ".", "_" and "-"`);
  }
  if (prefix.length + longestBase.length > 249) throw new ConfigError(`topic prefix ${JSON.stringify(prefix)} is too long`);
}

/** Topic names, each `prefix + name` (the prefix is prepended as is, e.g. `test-` -> `test-votes`). */
export function topicNames(prefix = ''): TopicNames {
  checkPrefix(prefix, 'votestream-voters-changelog');
  return {
    votes: `${prefix}votes`,
    votesAccepted: `${prefix}votes-accepted`,
    votesRejected: `${prefix}votes-rejected`,
    votesDlq: `${prefix}votes-dlq`,
    elections: `${prefix}elections`,
    votersChangelog: `${prefix}votestream-voters-changelog`,
  };
}

/** DynamoDB table names, each `prefix + name`. */
export function tableNames(prefix = ''): TableNames {
  if (!/^[A-Za-z0-9._-]*$/.test(prefix) || prefix.length + 'votestream-elections'.length > 255) {
    throw new ConfigError(`table prefix ${JSON.stringify(prefix)} is not valid in a DynamoDB table name`);
  }
  return { votes: `${prefix}votestream-votes`, elections: `${prefix}votestream-elections` };
}

/** Key of the `voters` store and its changelog: `electionId:voterId`. */
export function dedupeKey(electionId: string, voterId: string): string {
  return `${electionId}:${voterId}`;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Kafka topic-level configs, as strings. */
  configs: Record<string, string>;
}

export interface TopicSpecOptions {
  prefix?: string;
  /** Partitions of `votes`, `votes-accepted`, `votes-rejected`, the changelog and `votes-dlq`. */
  partitions?: number;
  replicationFactor?: number;
}

/** Retain forever: every record stays replayable (DESIGN section 1). */
const KEEP_FOREVER: Record<string, string> = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };
/** Compacted: the latest value per key is kept forever. */
const COMPACTED: Record<string, string> = { 'cleanup.policy': 'compact' };
/**
 * The broker refuses a `votes` record stamped more than this far in the future (by its clock).
 * Judging a vote waits until the elections table is complete up to its `ts`, and `ts` may run at
 * most MAX_VOTE_AHEAD_MS (topology.ts) past its record's timestamp, so the two bound how long any
 * record can hold a partition (7 s), under the 10 s transaction timeout. A producer whose clock is
 * more than 5 s ahead of the broker's stamps wrong `ts` values anyway.
 */
export const VOTES_MAX_FUTURE_TIMESTAMP_MS = 5_000;
const VOTES: Record<string, string> = { ...KEEP_FOREVER, 'message.timestamp.after.max.ms': String(VOTES_MAX_FUTURE_TIMESTAMP_MS) };
/** What `elections` must be: every version kept forever (replays judge with old versions). */
export const ELECTIONS_TOPIC_CONFIGS: Readonly<Record<string, string>> = KEEP_FOREVER;

/**
 * The topics to create. `votes`, `votes-accepted`, `votes-rejected`, the changelog and `votes-dlq`
 * share one partition count, so partition p of one is partition p of the others. `elections` has
 * one partition: it is small, read in full by every process, and one partition gives all election
 * updates one order. The changelog is compacted; the rest, `elections` included (the full version
 * history), are kept forever.
 */
export function topicSpecs(options: TopicSpecOptions = {}): TopicSpec[] {
  const names = topicNames(options.prefix ?? '');
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const replicationFactor = options.replicationFactor ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) {
    throw new ConfigError(`partitions must be an integer in 1..1000, got ${partitions}`);
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new ConfigError(`replicationFactor must be an integer >= 1, got ${replicationFactor}`);
  }
  const spec = (name: string, p: number, configs: Record<string, string>): TopicSpec => ({
    name,
    partitions: p,
    replicationFactor,
    configs: { ...configs },
  });
  return [
    spec(names.votes, partitions, VOTES),
    spec(names.votesAccepted, partitions, KEEP_FOREVER),
    spec(names.votesRejected, partitions, KEEP_FOREVER),
    spec(names.votesDlq, partitions, KEEP_FOREVER),
    spec(names.votersChangelog, partitions, COMPACTED),
    spec(names.elections, 1, ELECTIONS_TOPIC_CONFIGS),
  ];
}
