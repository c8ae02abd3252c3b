import { SerdeError, type Serde } from '../topology/serdes/serde.js';
import { Serdes } from '../topology/serdes/serdes.js';
import type { Processor, ProcessorContext } from '../topology/processor.js';
import type { StreamRecord } from '../topology/record.js';
import type { KeyValueStore } from '../statestores/key-value-store.js';
import { StreamsBuilder } from '../topology/streams-builder.js';
import type { Topology } from '../topology/topology.js';
import type { Registry } from 'prom-client';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../runtime/logger.js';
import { DynamoVoteSink } from './vote-log-sink.js';
import { VoteCountSink } from './count-sink.js';
import { ensureTable } from './provision.js';
import { hasCompleteness } from '../topology/global-store-completeness.js';
import { decideVote } from './decide.js';
import { decodeElection, mergeElectionVersion, versionAt, type Election, type ElectionHistory } from './election.js';
import { dedupeKey, tableNames, topicNames, VOTERS_STORE } from './topics.js';
import {
  decodeAcceptedVote,
  decodeVote,
  encodeAcceptedVote,
  encodeJson,
  encodeRejectedVote,
  malformedRejection,
  toAcceptedVote,
  toRejectedVote,
  type AcceptedVote,
  type MalformedRejection,
  type RejectReason,
  type RejectedVote,
  type Vote,
} from './vote.js';

/** The application id of the voting workers: it names the consumer groups and the changelog. */
export function votingApplicationId(prefix = ''): string {
  return `${prefix}votestream`;
}

/** A `votes` value as the source hands it on: a vote, or a JSON object that failed the schema. */
export type IncomingVote = { readonly ok: true; readonly vote: Vote } | { readonly ok: false; readonly error: string; readonly raw: Record<string, unknown> };

/**
 * Reads `votes` values. What is not even a JSON object throws, so the source sends the original
 * bytes to `votes-dlq` with an `error` header; a JSON object that fails the schema goes on, to be
 * rejected as `malformed` on `votes-rejected` (it is a vote someone sent, and the audit trail keeps it).
 */
export const incomingVoteSerde: Serde<IncomingVote> = {
  serialize: (_topic, value) => encodeJson(value.ok ? value.vote : malformedRejection(value.raw)),
  deserialize: (topic, data) => {
    const decoded = decodeVote(data);
    if (decoded.ok) return { ok: true, vote: decoded.vote };
    if (decoded.kind === 'malformed') return { ok: false, error: decoded.error, raw: decoded.raw };
    throw new SerdeError(`undecodable vote on "${topic}": ${decoded.error}`);
  },
};

/**
 * Election versions on `elections`. What does not decode is skipped by the global table (logged and
 * counted), never fatal: one bad record must not stop every worker nor hide the versions after it.
 */
export const electionSerde: Serde<Election> = {
  serialize: (_topic, value) => Buffer.from(JSON.stringify(value)),
  deserialize: (topic, data) => {
    const decoded = decodeElection(data);
    if (!decoded.ok) throw new SerdeError(`invalid election on "${topic}": ${decoded.error}`);
    return decoded.election;
  },
};

const outputSerde = <T extends Vote | AcceptedVote | RejectedVote | MalformedRejection>(): Serde<T> => ({
  serialize: (_topic, value) => encodeJson(value),
  deserialize: (_topic, data) => JSON.parse((data ?? Buffer.alloc(0)).toString('utf8')) as T,
});

/**
 * The `votes-accepted` sink's serde. Its only producer is AttachSource, whose values are
 * toAcceptedVote's, and for those `encodeAcceptedVote(v, v.source.partition, v.source.offset)` is
 * `encodeJson(v)` byte for byte (same fields, same order, the offset already a number) without
 * the JSON.stringify. Not for values built elsewhere: extra fields would be dropped.
 */
const acceptedSinkSerde: Serde<AcceptedVote> = {
  serialize: (_topic, value) => encodeAcceptedVote(value, value.source.partition, value.source.offset),
  deserialize: outputSerde<AcceptedVote>().deserialize,
};

/** The same for the `votes-rejected` sinks fed by toRejectedVote (duplicates and ineligible votes). */
const rejectedVoteSinkSerde: Serde<RejectedVote> = {
  serialize: (_topic, value) => encodeRejectedVote(value, value.reason),
  deserialize: outputSerde<RejectedVote>().deserialize,
};

interface Judged {
  readonly vote: Vote;
  readonly reason: RejectReason | undefined;
}

/** The global store of election histories (every version per election id). */
export const ELECTIONS_STORE = 'elections';

/**
 * How far a vote's `ts` may be ahead of its own Kafka record's timestamp. Judging waits until the
 * elections table is complete up to `ts`, so a `ts` in the far future (a wrong client clock, a
 * hostile producer) would stall the partition until that instant. Both numbers are part of the
 * record, so the rule gives the same answer on every replay: such a vote is rejected `malformed`.
 * The gateway stamps `ts` just before it produces, so honest votes are behind their record's
 * timestamp; the record's timestamp itself is bounded by the broker
 * (`message.timestamp.after.max.ms` on `votes`, see topics.ts). Kept well under the transaction
 * timeout (10 s): a task waiting that long inside an open transaction would be aborted by the broker.
 */
export const MAX_VOTE_AHEAD_MS = 2_000;

/**
 * Judges one schema-valid vote (DESIGN section 3, judging rule): the key must be its voterId (dedup
 * is per partition, so a vote keyed otherwise could be accepted once per partition), its `ts` must
 * not run ahead of its record (MAX_VOTE_AHEAD_MS), and then it is decided against the version in
 * force at `ts`, read only once the elections table is known complete up to `ts`. While it waits,
 * the task waits: later votes of the partition must not be decided first.
 */
class JudgeVote implements Processor<string | null, Vote, string, Judged> {
  #context!: ProcessorContext<string, Judged>;
  #elections!: KeyValueStore<ElectionHistory>;
  init(context: ProcessorContext<string, Judged>): void {
    this.#context = context;
    this.#elections = context.getStateStore<ElectionHistory>(ELECTIONS_STORE);
  }
  async process(record: StreamRecord<string | null, Vote>): Promise<void> {
    const vote = record.value;
    let reason: RejectReason | undefined;
    if (record.key !== vote.voterId || vote.ts > record.timestamp + MAX_VOTE_AHEAD_MS) {
      reason = 'malformed';
    } else {
      // Known complete already (the usual case): no wait, and no promise per vote.
      if (hasCompleteness(this.#elections) && this.#elections.completeUpToMs() < vote.ts) await this.#elections.waitUntilCompleteUpTo(vote.ts);
      reason = decideVote(vote, versionAt(await this.#elections.get(vote.electionId), vote.ts));
    }
    // Keyed by voterId from here on, as every output topic is (DESIGN section 3).
    return this.#context.forward({ key: vote.voterId, value: { vote, reason }, timestamp: record.timestamp, headers: record.headers });
  }
}

/**
 * Adds `source: {partition, offset}` (where the vote was read in `votes`) to accepted votes: the
 * DynamoDB log keeps it as `sourceOffset`, so every counted vote points back at its input.
 */
class AttachSource implements Processor<string, Vote, string, AcceptedVote> {
  #context!: ProcessorContext<string, AcceptedVote>;
  init(context: ProcessorContext<string, AcceptedVote>): void {
    this.#context = context;
  }
  process(record: StreamRecord<string, Vote>): void | Promise<void> {
    const meta = this.#context.recordMetadata()!;
    return this.#context.forward({ ...record, value: toAcceptedVote(record.value, meta.partition, meta.offset) });
  }
}

/** `votes-accepted` values for the sinks; what does not parse goes to `votes-dlq` (it was written by us, so it is a bug). */
export const acceptedVoteSerde: Serde<AcceptedVote> = {
  serialize: (_topic, value) => encodeJson(value),
  deserialize: (topic, data) => {
    const decoded = decodeAcceptedVote(data);
    if (!decoded.ok) throw new SerdeError(`invalid accepted vote on "${topic}": ${decoded.error}`);
    return decoded.vote;
  },
};

/** The parts of the system a worker can run; each is its own sub-topology and consumer group. */
export const VOTING_ROLES = ['dedup', 'count', 'persist'] as const;
export type VotingRole = (typeof VOTING_ROLES)[number];

export interface VotingTopologyOptions {
  /** Topic and table prefix (DESIGN section 3: configurable, default none). */
  readonly prefix?: string;
  /** Which parts to build; default all three. */
  readonly roles?: readonly VotingRole[];
  /** Where the count sink writes (default the local stack's Redis). Sinks connect only when a task opens them. */
  readonly redis?: string;
  /** Where the persist sink writes (default the local stack's DynamoDB Local). */
  readonly dynamodbEndpoint?: string;
  /** The sinks meter into this registry (`votestream_sink_*`) and log through this logger. */
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/**
 * The voting topology of DESIGN sections 1 and 3, in three parts that progress independently:
 * - dedup: votes -> decode (undecodable to votes-dlq, malformed rejected) -> join elections ->
 *   decide (unknown election or candidate, outside the window: rejected) -> dedupe on
 *   electionId:voterId in store `voters` -> votes-accepted (with source) | votes-rejected (duplicate);
 * - count: votes-accepted -> VoteCountSink (fenced by offset);
 * - persist: votes-accepted -> DynamoVoteSink (hash chain, fenced by the chain head).
 * count and persist read the same topic in separate sub-topologies, so each has its own consumer
 * group: a slow DynamoDB never holds back the live counts. Decisions never use the wall clock.
 */
export function votingTopology(options: VotingTopologyOptions = {}): Topology {
  const prefix = options.prefix ?? '';
  const roles = new Set(options.roles ?? VOTING_ROLES);
  const topics = topicNames(prefix);
  const builder = new StreamsBuilder();
  if (roles.has('dedup')) addDedup(builder, prefix);
  if (roles.has('count')) {
    const redis = options.redis ?? 'redis://127.0.0.1:16379';
    builder
      .stream(topics.votesAccepted, { key: Serdes.string(), value: acceptedVoteSerde, deadLetterTopic: topics.votesDlq, name: 'count-source' })
      .to({ name: 'redis-counts', create: () => new VoteCountSink({ redis, prefix, registry: options.registry, logger: options.logger }) }, { name: 'redis-count-sink' });
  }
  if (roles.has('persist')) {
    const dynamodb = options.dynamodbEndpoint ?? 'http://127.0.0.1:18000';
    const tableName = tableNames(prefix).votes;
    // DynamoDB Local keeps its tables in memory: after a restart the table is recreated empty and
    // the task replays the partition from its beginning, rebuilding the same chains.
    const recreateVotesTable = async (client: DynamoDBClient, table: string): Promise<void> => {
      await ensureTable(client, table, { sortKey: true });
    };
    builder
      .stream(topics.votesAccepted, { key: Serdes.string(), value: acceptedVoteSerde, deadLetterTopic: topics.votesDlq, name: 'persist-source' })
      .to({ name: 'dynamodb-vote-log', create: () => new DynamoVoteSink({ dynamodb, tableName, recreateLostTable: recreateVotesTable, registry: options.registry, logger: options.logger }) }, { name: 'dynamodb-vote-sink' });
  }
  return builder.build();
}

function addDedup(builder: StreamsBuilder, prefix: string): void {
  const topics = topicNames(prefix);
  builder.globalTable<string, ElectionHistory, Election>(topics.elections, {
    key: Serdes.string(),
    value: electionSerde,
    storeName: ELECTIONS_STORE,
    onDeserializationError: 'skip-and-log',
    merge: (stored, incoming, key) => mergeElectionVersion(stored, incoming, key),
  });
  builder.addStateStore<string>({ name: VOTERS_STORE, valueSerde: Serdes.string() });
  const rejected = outputSerde<MalformedRejection>();

  const decoded = builder
    .stream(topics.votes, {
      // A null key is a vote like any other until judged (then rejected `malformed`), not undecodable.
      key: Serdes.nullable(Serdes.string()),
      value: incomingVoteSerde,
      onDeserializationError: 'dead-letter',
      deadLetterTopic: topics.votesDlq,
      name: 'votes-source',
    })
    .split({ name: 'decode' })
    .branch((_k, v) => v.ok, 'valid')
    .defaultBranch('malformed');

  decoded.malformed
    .mapValues((v): MalformedRejection => malformedRejection((v as Extract<IncomingVote, { ok: false }>).raw), { name: 'reject-malformed' })
    .to(topics.votesRejected, { key: Serdes.nullable(Serdes.string()), value: rejected, name: 'rejected-malformed-sink' });

  const judged = decoded.valid
    .mapValues((v) => (v as Extract<IncomingVote, { ok: true }>).vote, { name: 'vote' })
    .process(() => new JudgeVote(), { name: 'judge' }, ELECTIONS_STORE)
    .split({ name: 'decide' })
    .branch((_k, j) => j.reason === undefined, 'eligible')
    .defaultBranch('ineligible');

  judged.ineligible
    .mapValues((j): RejectedVote => toRejectedVote(j.vote, j.reason!), { name: 'reject-ineligible' })
    .to(topics.votesRejected, { key: Serdes.string(), value: rejectedVoteSinkSerde, name: 'rejected-ineligible-sink' });

  const { accepted, duplicates } = judged.eligible
    .mapValues((j) => j.vote, { name: 'eligible-vote' })
    .dedupe({ key: (_k, vote) => dedupeKey(vote.electionId, vote.voterId), store: VOTERS_STORE, storeValue: (_k, vote) => vote.voteId, name: 'dedupe' });

  duplicates
    .mapValues((vote): RejectedVote => toRejectedVote(vote, 'duplicate'), { name: 'reject-duplicate' })
    .to(topics.votesRejected, { key: Serdes.string(), value: rejectedVoteSinkSerde, name: 'rejected-duplicate-sink' });

  accepted
    .process(() => new AttachSource(), { name: 'attach-source' })
    .to(topics.votesAccepted, { key: Serdes.string(), value: acceptedSinkSerde, name: 'accepted-sink' });
}
